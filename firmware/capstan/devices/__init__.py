"""Devices: buttons, switches, reel tachometers, the motor, solenoids, the relay, LEDs.

They are composed from the board's pins, own polarity and speak the language of
the deck (`play_button.is_pressed`, `take_up_reel.rpm`, `record_relay.engage()`).
"""
