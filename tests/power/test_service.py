"""PowerService in simulated time, reading the real drivers over the register models."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from capstan.power.config import PowerConfig
from capstan.power.events import PowerEvent

GAUGE, CHARGER = 0x36, 0x6A


def test_reads_the_gauge_and_configures_the_charger(rig_factory) -> None:
    rig = rig_factory(percent=60)
    svc = rig.service(PowerConfig(charge_current_limit=0.768, input_current_limit=1.2))

    async def main() -> None:
        await svc.start()
        await asyncio.sleep(30)
        st = svc.status()
        assert st["percent"] == pytest.approx(rig.models.battery.percent, abs=0.2)
        assert st["gauge_known"] and st["supply"] == "battery" and st["level"] == "ok"
        assert st["voltage"] == pytest.approx(rig.models.battery.voltage, abs=0.01)
        assert svc.charger is not None
        assert svc.charger.charge_current_limit == pytest.approx(0.768)
        assert svc.charger.input_current_limit == pytest.approx(1.2)
        assert svc.charger.adc_continuous
        await svc.stop()

    rig.run(main)
    assert rig.whats() == []


def test_the_watchdog_is_kicked_at_the_configured_rate(rig_factory) -> None:
    rig = rig_factory()
    svc = rig.service(PowerConfig(kick_interval=15.0, watchdog_timeout=40.0))

    async def main() -> None:
        await svc.start()
        await asyncio.sleep(301)
        await svc.stop()

    rig.run(main)
    kicks = rig.models.charger.kicks
    assert len(kicks) == svc.kicks == 20
    gaps = [b - a for a, b in itertools.pairwise(kicks)]
    assert all(g == pytest.approx(15.0, abs=0.06) for g in gaps)
    assert rig.models.charger.watchdog_expiries == 0


def test_a_dead_daemon_leaves_the_charger_to_fall_back_to_its_defaults(rig_factory) -> None:
    rig = rig_factory(charger=True)
    svc = rig.service(PowerConfig(charge_current_limit=0.512))

    async def main() -> None:
        await svc.start()
        await asyncio.sleep(20)
        await svc.stop()                   # the daemon died: nobody kicks
        await asyncio.sleep(60)

    rig.run(main)
    assert rig.models.charger.watchdog_expiries == 1
    assert (rig.models.charger.registers[0x04] & 0x7F) * 0.064 == pytest.approx(2.048)


def test_after_a_watchdog_expiry_the_settings_are_applied_again(rig_factory) -> None:
    rig = rig_factory(charger=True)
    svc = rig.service(PowerConfig(charge_current_limit=0.512))

    async def main() -> None:
        await svc.start()
        await asyncio.sleep(10)
        rig.detach(CHARGER)                # the bus to the charger fails for a minute
        await asyncio.sleep(60)
        rig.reattach(CHARGER)
        await asyncio.sleep(10)
        await svc.stop()

    rig.run(main)
    assert rig.models.charger.watchdog_expiries == 1
    assert (rig.models.charger.registers[0x04] & 0x7F) * 0.064 == pytest.approx(0.512)


def test_charging_lights_the_led_and_unplugging_is_reported(rig_factory) -> None:
    rig = rig_factory(percent=40, charger=True)
    svc = rig.service()
    led = rig.models.leds
    charge_channel = rig.board.leds["charge"].channel

    async def main() -> None:
        await svc.start()
        await asyncio.sleep(30)
        assert led.duty(charge_channel) == 1.0
        rig.models.charger.plugged = False
        await asyncio.sleep(30)
        assert led.duty(charge_channel) == 0.0
        await svc.stop()

    rig.run(main)
    assert rig.whats() == ["charging", "discharging"]
    (t_unplug, _), = rig.power("discharging")
    assert 30 < t_unplug <= 30 + 2 * svc.config.poll_interval + 0.1


def test_a_charger_fault_is_reported(rig_factory) -> None:
    rig = rig_factory(percent=40, charger=True)
    svc = rig.service()

    async def main() -> None:
        await svc.start()
        await asyncio.sleep(20)
        rig.models.charger.inject_fault("thermal")
        await asyncio.sleep(20)
        rig.models.charger.clear_faults()
        await asyncio.sleep(20)
        await svc.stop()

    rig.run(main)
    whats = rig.whats()
    assert whats[:2] == ["charging", "charger_fault"]
    assert sorted(whats[2:]) == ["charger_ok", "charging"]
    (_, fault), = rig.power("charger_fault")
    assert fault["faults"] == ("charge_thermal",)


def test_garbage_reads_and_nack_bursts_never_shut_down(rig_factory) -> None:
    rig = rig_factory(percent=7, load=0.3)
    powered_off = []
    svc = rig.service(power_off=lambda: powered_off.append(True))

    async def main() -> None:
        await svc.start()
        for i in range(60):
            await asyncio.sleep(3.7)
            if i % 2:
                rig.bus.inject_garbage(1)
            else:
                rig.bus.inject_nack(5 if i % 4 else 12)
        await svc.stop()

    rig.run(main)
    assert rig.models.battery.percent > 5
    assert "critical" not in rig.whats() and "shutdown" not in rig.whats()
    assert "gauge_unknown" not in rig.whats()
    assert not powered_off
    assert svc.retries > 0 and svc.policy.gauge_known


def test_a_gauge_dead_from_start_up_stays_unknown_and_the_player_keeps_going(rig_factory):
    rig = rig_factory(percent=50)
    rig.bus.inject_nack(10**9, GAUGE)
    powered_off = []
    svc = rig.service(power_off=lambda: powered_off.append(True))

    async def main() -> None:
        await svc.start()
        await asyncio.sleep(600)
        st = svc.status()
        assert st["percent"] is None and not st["gauge_known"] and st["level"] == "ok"
        assert st["remaining"] is None and svc.can_finish(3600)
        assert st["voltage"] == pytest.approx(rig.models.battery.voltage, abs=0.03)
        await svc.stop()

    rig.run(main)
    assert rig.whats() == ["gauge_unknown"]
    assert svc.gauge is None and not powered_off


def test_critical_runs_the_safe_sequence_then_powers_off(rig_factory) -> None:
    rig = rig_factory(percent=5.6, load=1.0)           # 1 A from 2500 mAh: 0.04 %/s
    rig.models.battery.internal_resistance = 0.03     # a cell that holds its voltage to 5 %
    steps: list[tuple[float, str]] = []

    async def safe_sequence(event: PowerEvent) -> None:
        steps.append((rig.loop.time(), f"critical:{event.reason}"))
        await asyncio.sleep(0.3)                        # close the recording, save the TOC
        steps.append((rig.loop.time(), "saved"))

    svc = rig.service(on_critical=safe_sequence,
                      power_off=lambda: steps.append((rig.loop.time(), "poweroff")))

    async def main() -> None:
        await svc.start()
        await asyncio.sleep(120)
        await svc.stop()

    rig.run(main)
    assert rig.whats() == ["warning", "critical", "shutdown"]
    (t_critical, critical), = rig.power("critical")
    (t_shutdown, _), = rig.power("shutdown")
    assert critical["reason"] == "soc" and critical["percent"] <= 5.0
    assert [s for _, s in steps] == ["critical:soc", "saved", "poweroff"]
    assert steps[0][0] == t_critical and steps[1][0] <= t_shutdown <= steps[2][0]
    assert t_shutdown - t_critical <= 2.0


def test_a_hung_safe_sequence_still_powers_off(rig_factory) -> None:
    rig = rig_factory(percent=5.2, load=1.0)
    done = []

    async def hangs(event: PowerEvent) -> None:
        await asyncio.sleep(3600)

    svc = rig.service(PowerConfig(shutdown_timeout=5.0), on_critical=hangs,
                      power_off=lambda: done.append(rig.loop.time()))

    async def main() -> None:
        await svc.start()
        await asyncio.sleep(60)
        await svc.stop()

    rig.run(main)
    (t_critical, _), = rig.power("critical")
    assert done == [pytest.approx(t_critical + 5.0)]


def test_with_the_gauge_dead_a_dying_cell_still_shuts_down(rig_factory) -> None:
    rig = rig_factory(percent=1.0, load=0.8)
    rig.bus.inject_nack(10**9, GAUGE)
    done = []
    svc = rig.service(power_off=lambda: done.append(True))

    async def main() -> None:
        await svc.start()
        await asyncio.sleep(120)
        await svc.stop()

    rig.run(main)
    assert rig.whats() == ["gauge_unknown", "critical", "shutdown"]
    assert rig.power("critical")[0][1]["reason"] == "voltage" and done == [True]


def test_remaining_time_follows_the_mode(rig_factory) -> None:
    rig = rig_factory(percent=50, load=0.5)
    svc = rig.service()

    async def main() -> None:
        await svc.start()
        svc.mode = "bluetooth"
        await asyncio.sleep(600)
        left = svc.remaining()
        # 0.5 A from 2500 mAh: 20 %/h; about 45 % above the critical level: about 8100 s
        assert left == pytest.approx(45 / 20 * 3600, rel=0.1)
        assert svc.can_finish(45 * 60) and not svc.can_finish(3 * 3600)
        with pytest.raises(ValueError):
            svc.mode = "radio"
        await svc.stop()

    rig.run(main)


def test_the_charge_led_flashes_at_the_warning_level(rig_factory) -> None:
    rig = rig_factory(percent=14, load=0.3)
    svc = rig.service()
    channel = rig.board.leds["charge"].channel
    seen: list[float] = []

    async def main() -> None:
        await svc.start()
        await asyncio.sleep(10)
        for _ in range(40):
            await asyncio.sleep(0.05)
            seen.append(rig.models.leds.duty(channel))
        await svc.stop()

    rig.run(main)
    assert rig.whats() == ["warning"]
    assert 0.0 in seen and 1.0 in seen
    assert rig.models.leds.duty(channel) == 0.0         # stop() leaves it dark


def test_the_player_load_matches_the_typical_currents() -> None:
    from capstan.power.config import PowerConfig
    from capstan.sim.chips import player_load

    typical = PowerConfig().typical_current
    playing = {"motor": 0.5, "record_relay": 0.0}
    assert player_load(playing) == pytest.approx(typical["wired"], abs=0.01)
    assert player_load(playing, bluetooth=True) == pytest.approx(typical["bluetooth"], abs=0.01)
    assert player_load({**playing, "record_relay": 1.0}) == pytest.approx(
        typical["recording"], abs=0.01)
