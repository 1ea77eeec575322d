# The virtual Pi of tools/vm-test: sourced after setup.sh, not run.
#
# A QEMU guest boots Debian's 6.12 kernel (bookworm-security) with this machine's own
# root filesystem shared read-only over 9p under a tmpfs overlay, so the .venv and the
# Debian packages are the same inside. Its kernel gives the stand-ins for the Pi's
# hardware: gpio-sim (built here from linux-source: Debian does not build it), i2c-stub,
# snd-aloop, hci_vhci, dummy_hcd (rebuilt with isochronous IN transfers). Everything is
# cached under $VM_CACHE and made once.

# qemu, the initramfs (busybox, cpio), the gpio-sim build (make, gcc, libelf), the guest's
# tools (libgpiod, i2c-tools, alsa-utils, bluez with btvirt), python3-dbus for BlueZ,
# eject for the USB drive's host side (tests/vm/test_usb.py).
CAPSTAN_DEBS_VM=(qemu-system-x86 busybox-static cpio kmod xz-utils make gcc-12 libc6-dev
                 libelf-dev gpiod i2c-tools alsa-utils bluez bluez-test-tools dbus systemd
                 python3-dbus eject)
VM_CACHE="${CAPSTAN_VM_CACHE:-/var/cache/capstan-vm}"
VM_LOCK="$VM_CACHE/lock"

vm_say() { echo "vm-test: $*" >&2; }
vm_fail() { echo "vm-test: FAILED: $*" >&2; exit 1; }

# The newest 6.12 kernel whose image, headers, kbuild and source are all in the archive
# (or the one already unpacked in the cache). Sets VM_KPKG (6.12.N+deb12), VM_KVER
# (its uname -r) and VM_KSRC (the linux-source-6.12 version).
vm_pick_kernel() {
    local have v
    have="$(ls "$VM_CACHE/kernel/boot" 2>/dev/null | sed -n 's/^vmlinuz-\(6\.12\..*\)-amd64$/\1/p' \
            | sort -V | tail -n1 || true)"
    if [ -n "$have" ] && [ -e "$VM_CACHE/kernel/lib/modules/$have-amd64/updates/gpio-sim.ko" ]; then
        VM_KPKG="$have"; VM_KVER="$have-amd64"; VM_KSRC="$(cat "$VM_CACHE/kernel/source-version")"
        return 0
    fi
    [ -n "$(apt-cache madison linux-source-6.12 2>/dev/null)" ] \
        || as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    for v in $(apt-cache madison linux-source-6.12 | awk '{print $3}' | sort -rV); do
        local n="${v%%-*}" image
        VM_KPKG="$n+deb12"; VM_KVER="$VM_KPKG-amd64"; VM_KSRC="$v"
        image=""
        for image in "linux-image-$VM_KVER" "linux-image-$VM_KVER-unsigned"; do
            apt-cache madison "$image" 2>/dev/null | grep -q "$v" && break
            image=""
        done
        [ -n "$image" ] || continue
        apt-cache madison "linux-headers-$VM_KVER" "linux-headers-$VM_KPKG-common" \
            "linux-kbuild-$VM_KPKG" 2>/dev/null | grep -c "$v" | grep -qx 3 || continue
        VM_KIMAGE="$image"
        return 0
    done
    vm_fail "no Debian 6.12 kernel with its headers and source in the package lists" \
            "(is bookworm-security in /etc/apt/sources.list?)"
}

# Download and unpack the kernel (not installed on this machine), build gpio-sim.ko.
vm_prepare_kernel() {
    local k="$VM_CACHE/kernel" debs="$VM_CACHE/debs" b="$VM_CACHE/build/gpio-sim"
    local moddir="$k/lib/modules/$VM_KVER"
    [ -e "$moddir/updates/gpio-sim.ko" ] && return 0
    mkdir -p "$debs"
    if [ ! -e "$k/boot/vmlinuz-$VM_KVER" ]; then
        vm_say "downloading Debian's kernel $VM_KVER (cached in $debs)"
        (cd "$debs" && apt-get download -qq "$VM_KIMAGE=$VM_KSRC" "linux-headers-$VM_KVER=$VM_KSRC" \
            "linux-headers-$VM_KPKG-common=$VM_KSRC" "linux-kbuild-$VM_KPKG=$VM_KSRC" \
            "linux-source-6.12=$VM_KSRC") || vm_fail "cannot download the kernel packages"
        rm -rf "$k.new" && mkdir -p "$k.new"
        local d
        for d in "$debs"/linux-image-"$VM_KVER"*_"${VM_KSRC//:/%3a}"_*.deb \
                 "$debs"/linux-headers-"$VM_KPKG"-*_"${VM_KSRC}"_*.deb \
                 "$debs"/linux-kbuild-"$VM_KPKG"_"${VM_KSRC}"_*.deb; do
            dpkg-deb -x "$d" "$k.new" || vm_fail "cannot unpack $d"
        done
        # the headers' Makefile includes the -common tree by absolute path: point it here
        sed -i "s#^include /usr/src/#include $k/usr/src/#" "$k.new/usr/src/linux-headers-$VM_KVER/Makefile"
        echo "$VM_KSRC" > "$k.new/source-version"
        rm -rf "$k" && mv "$k.new" "$k"
    fi
    # Debian builds no gpio-sim (nor CONFIG_IRQ_SIM): build both into one module from the
    # matching source. irq_to_desc() is not exported to modules; generic_handle_irq() finds
    # the same descriptor and runs the flow handler that irq_sim installed.
    vm_say "building gpio-sim.ko from linux-source-6.12 $VM_KSRC"
    rm -rf "$b" && mkdir -p "$b"
    dpkg-deb --fsys-tarfile "$debs"/linux-source-6.12_"$VM_KSRC"_all.deb \
        | tar -xO ./usr/src/linux-source-6.12.tar.xz \
        | tar -xJ -C "$b" --strip-components=3 \
            linux-source-6.12/drivers/gpio/gpio-sim.c linux-source-6.12/kernel/irq/irq_sim.c \
        || vm_fail "cannot extract gpio-sim.c from linux-source-6.12"
    mv "$b/gpio-sim.c" "$b/gpio-sim-main.c"
    sed -i 's|handle_simple_irq(irq_to_desc(irqnum));|generic_handle_irq(irqnum);|' "$b/irq_sim.c"
    grep -q 'generic_handle_irq(irqnum);' "$b/irq_sim.c" || vm_fail "irq_sim.c changed: cannot patch it"
    printf 'obj-m := gpio-sim.o\ngpio-sim-y := gpio-sim-main.o irq_sim.o\n' > "$b/Kbuild"
    # no BTF for the module (it would need pahole)
    make -s -C "$k/usr/src/linux-headers-$VM_KVER" M="$b" CONFIG_DEBUG_INFO_BTF_MODULES= modules \
        || vm_fail "the gpio-sim build failed"
    mkdir -p "$moddir/updates" && cp "$b/gpio-sim.ko" "$moddir/updates/"
    depmod -b "$k" "$VM_KVER"   # the .deb ships no modules.dep
}

# dummy_hcd.ko with isochronous IN transfers (tools/vm/dummy-hcd-iso.py): Debian's has
# none, and the USB sound card (UAC2) streams only over them. Rebuilt when the patch changes.
vm_prepare_dummy_hcd() {
    local k="$VM_CACHE/kernel" b="$VM_CACHE/build/dummy_hcd" patch="$CAPSTAN_ROOT/tools/vm/dummy-hcd-iso.py"
    local updates="$k/lib/modules/$VM_KVER/updates" stamp
    stamp="$(sha256sum "$patch" | cut -c1-16)"
    [ -e "$updates/dummy_hcd.ko" ] && [ "$(cat "$updates/dummy_hcd.stamp" 2>/dev/null)" = "$stamp" ] \
        && return 0
    vm_say "building dummy_hcd.ko with isochronous IN transfers from linux-source-6.12 $VM_KSRC"
    rm -rf "$b" && mkdir -p "$b"
    dpkg-deb --fsys-tarfile "$VM_CACHE/debs"/linux-source-6.12_"$VM_KSRC"_all.deb \
        | tar -xO ./usr/src/linux-source-6.12.tar.xz \
        | tar -xJ -C "$b" --strip-components=5 linux-source-6.12/drivers/usb/gadget/udc/dummy_hcd.c \
        || vm_fail "cannot extract dummy_hcd.c from linux-source-6.12"
    python3 "$patch" "$b/dummy_hcd.c" || vm_fail "cannot patch dummy_hcd.c"
    printf 'obj-m := dummy_hcd.o\n' > "$b/Kbuild"
    make -s -C "$k/usr/src/linux-headers-$VM_KVER" M="$b" CONFIG_DEBUG_INFO_BTF_MODULES= modules \
        || vm_fail "the dummy_hcd build failed"
    mkdir -p "$updates" && cp "$b/dummy_hcd.ko" "$updates/" && echo "$stamp" > "$updates/dummy_hcd.stamp"
    depmod -b "$k" "$VM_KVER"
}

# The busybox initramfs: 9p + overlay modules and tools/vm/init.
vm_prepare_initramfs() {
    local k="$VM_CACHE/kernel" i="$VM_CACHE/build/initramfs" out="$VM_CACHE/initramfs-$VM_KVER.cpio.gz"
    local stamp
    stamp="$(sha256sum "$CAPSTAN_ROOT/tools/vm/init" /bin/busybox | sha256sum | cut -c1-16)"
    [ -e "$out" ] && [ "$(cat "$out.stamp" 2>/dev/null)" = "$stamp" ] && return 0
    rm -rf "$i" && mkdir -p "$i"/{bin,mod,proc,sys,dev}
    cp /bin/busybox "$i/bin/"
    local p
    for p in fs/netfs/netfs net/9p/9pnet net/9p/9pnet_virtio fs/9p/9p fs/overlayfs/overlay; do
        xz -dc "$k/lib/modules/$VM_KVER/kernel/$p.ko.xz" > "$i/mod/$(basename "$p").ko"
    done
    cp "$CAPSTAN_ROOT/tools/vm/init" "$i/init" && chmod 0755 "$i/init"
    (cd "$i" && find . | cpio -o -H newc --quiet | gzip -1 > "$out.new") && mv "$out.new" "$out"
    echo "$stamp" > "$out.stamp"
}

vm_prepare() {
    mkdir -p "$VM_CACHE"
    vm_pick_kernel
    vm_prepare_kernel
    vm_prepare_dummy_hcd
    vm_prepare_initramfs
}

# KVM only where it is real VMX/SVM (a kvm_pvm device runs no stock kernel), else TCG.
vm_accel() {
    if [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo && [ ! -d /sys/module/kvm_pvm ]; then
        echo "-enable-kvm -cpu host"
    else
        echo "-accel tcg -cpu max"
    fi
}

# vm_boot OUTDIR TIMEOUT: boot the guest, which runs tools/vm/run-tests and powers off.
vm_boot() {
    local out="$1" limit="$2" kernel="$VM_CACHE/kernel/boot/vmlinuz-$VM_KVER"
    case "$CAPSTAN_ROOT$out" in *[[:space:]]*) vm_fail "paths with spaces cannot go on the guest's kernel command line: $CAPSTAN_ROOT, $out" ;; esac
    local cmdline="console=ttyS0 panic=-1 quiet loglevel=4 capstan.root=$CAPSTAN_ROOT capstan.out=$out capstan.venv=$VENV capstan.modules=$VM_CACHE/kernel/lib/modules/$VM_KVER systemd.unit=capstan-vm.target systemd.show_status=0"
    # shellcheck disable=SC2046
    timeout --kill-after=10 "$limit" qemu-system-x86_64 $(vm_accel) -m 2G -smp 1 \
        -nographic -nodefaults -serial stdio -no-reboot -nic none \
        -kernel "$kernel" -initrd "$VM_CACHE/initramfs-$VM_KVER.cpio.gz" -append "$cmdline" \
        -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
        -virtfs local,path="$out",mount_tag=capstanout,security_model=none,multidevs=remap \
        > "$out/console.log" 2>&1 < /dev/null
}
