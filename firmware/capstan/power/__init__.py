"""Power: the fuel gauge and the charger, an honest state of charge, and a safe shutdown.

`BatteryPolicy` (pure, `now` passed in) decides; `PowerService` reads the chips
on loop timers and acts. See docs/power.md.
"""

from capstan.power.config import PowerConfig
from capstan.power.events import PowerEvent
from capstan.power.policy import BatteryPolicy, PowerReading
from capstan.power.service import PowerService

__all__ = ["BatteryPolicy", "PowerConfig", "PowerEvent", "PowerReading", "PowerService"]
