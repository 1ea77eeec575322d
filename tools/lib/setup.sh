# Shared set-up for tools/sim and tools/test: sourced, not run.
# Installs what is missing, and only that: Debian packages, a .venv, the package.
# Idempotent: a second run checks and does nothing.
set -euo pipefail

CAPSTAN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$CAPSTAN_ROOT/.venv"

# The Debian packages the firmware and its tests use (see docs/development.md).
#  - libasound2-dev, gcc, python3-dev: build pyalsaaudio against the real alsa-lib
#  - libdbus-1-dev, libglib2.0-dev, pkg-config: build dbus-python, which python-dbusmock needs
#  - libsndfile1: FLAC for soundfile where no wheel bundles it (32-bit ARM)
#  - dbus, bluez-alsa-utils, libasound2-plugin-bluez: private D-Bus + real BlueALSA in tests
#  - minisign: cross-checks update signatures; mtools, dosfstools, fdisk, e2fsprogs, xz-utils: SD images
#  - device-tree-compiler: dtc and fdtget compile the sound-card overlay and read it back
CAPSTAN_DEBS_BASE=(python3 python3-venv python3-dev gcc libc6-dev pkg-config libasound2-dev libasound2-plugins libdbus-1-dev libglib2.0-dev libsndfile1)
# What the player itself runs on (tools/install installs exactly these; docs/updates.md,
# "Python packages"): Debian's python3 and its venv (with the pip wheel the updater uses),
# Debian's builds of the firmware's Python dependencies, OpenBLAS (single-threaded) under
# numpy instead of the reference BLAS, ALSA, BlueZ + BlueALSA, I2C, dtc, mtools and
# dosfstools for the USB update drive (docs/usb.md).
# tools/test installs them too: tests/update/test_on_debian.py runs the firmware on them.
CAPSTAN_DEBS_PLAYER=(python3 python3-venv python3-numpy libopenblas0-serial python3-cryptography python3-smbus2
    python3-dbus-fast python3-alsaaudio python3-tomli-w python3-soundfile python3-colorzero
    alsa-utils i2c-tools bluez bluez-alsa-utils libasound2-plugin-bluez minisign
    device-tree-compiler mtools dosfstools)
# The GPIO libraries: both in Raspberry Pi OS's archive; Debian has python3-rpi.gpio only.
CAPSTAN_DEBS_PI=(python3-lgpio python3-rpi.gpio)
# The SD image made from Debian's packages alone (tools/build-image --from-debian), besides
# CAPSTAN_DEBS_PLAYER: systemd as init, Debian's arm64 kernel and the Pi's boot firmware,
# the Pi's Bluetooth and WiFi firmware (non-free-firmware), the filesystem checkers of the
# two partitions, and RPi.GPIO (lgpio is not in Debian).
CAPSTAN_DEBS_IMAGE=(systemd-sysv udev dbus kmod initramfs-tools linux-image-arm64
    raspi-firmware bluez-firmware firmware-brcm80211 e2fsprogs dosfstools python3-rpi.gpio)
# What builds that image on an x86 machine and boots it (tools/test's image tier).
CAPSTAN_DEBS_IMAGE_TOOLS=(mmdebstrap arch-test qemu-user-static qemu-system-arm mtools
    dosfstools fdisk e2fsprogs)
# Only to build slot a from a clone (tools/install): the firmware's wheel, in-tree.
CAPSTAN_DEBS_BUILD=(python3-setuptools python3-wheel)
# Pure-Python wheels the bundle carries because Debian 12's package is too old.
CAPSTAN_BUNDLE_WHEELS=(gpiozero)
CAPSTAN_DEBS_TEST=(dbus bluez-alsa-utils libasound2-plugin-bluez minisign mtools dosfstools fdisk e2fsprogs xz-utils device-tree-compiler)

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else echo "capstan: need root (or sudo) to install Debian packages: $*" >&2; return 1
    fi
}

ensure_debs() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "capstan: installing Debian packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

pick_python() {
    # Prefer the python3 on PATH (Debian's on a Pi); it must be 3.11 or newer.
    local py
    for py in /usr/bin/python3 python3 python3.12 python3.11; do
        if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
            echo "$py"; return 0
        fi
    done
    echo "capstan: Python 3.11 or newer is needed (Debian 12 ships 3.11)" >&2
    return 1
}

ensure_venv() {
    # $1: the extras to install, e.g. "sim" or "dev,sim"
    local extras="$1" py stamp want
    if [ ! -x "$VENV/bin/python" ]; then
        py="$(pick_python)"
        echo "capstan: creating $VENV"
        "$py" -m venv "$VENV"
    fi
    want="$(cat "$CAPSTAN_ROOT/setup.cfg" "$CAPSTAN_ROOT/pyproject.toml" | sha256sum | cut -c1-16)-$extras"
    stamp="$VENV/.capstan-installed"
    if [ ! -f "$stamp" ] || ! grep -qx -- "$want" "$stamp" || ! "$VENV/bin/python" -c 'import capstan' 2>/dev/null; then
        echo "capstan: installing the firmware and its dependencies into .venv [$extras]"
        "$VENV/bin/python" -m pip install -q --upgrade pip
        "$VENV/bin/python" -m pip install -q -e "$CAPSTAN_ROOT[$extras]"
        echo "$want" >> "$stamp"
    fi
    ensure_bundle_wheels
}

ensure_bundle_wheels() {
    # The wheels an update bundle carries (CAPSTAN_BUNDLE_WHEELS), of the versions .venv
    # has, in .venv/bundle-wheels: for tools/make-bundle --extra-wheel and the tests.
    local dir="$VENV/bundle-wheels" name version
    for name in "${CAPSTAN_BUNDLE_WHEELS[@]}"; do
        version="$("$VENV/bin/python" -c 'import sys, importlib.metadata as m; print(m.version(sys.argv[1]))' "$name")"
        compgen -G "$dir/${name}-${version}-py3-none-any.whl" >/dev/null && continue
        echo "capstan: fetching the $name $version wheel for update bundles into $dir"
        "$VENV/bin/python" -m pip download -q --no-deps --only-binary=:all: -d "$dir" "$name==$version"
    done
}

ensure_demo_media() {
    # The demo mixtape is synthesized, not committed (see tools/make-demo-cassette).
    if [ ! -f "$CAPSTAN_ROOT/examples/media/demo-mixtape.wav" ]; then
        "$VENV/bin/python" "$CAPSTAN_ROOT/tools/make-demo-cassette" --out "$CAPSTAN_ROOT/examples/media"
    fi
}
