"""Audio: capture → DSP → outputs, and routing between the jack and Bluetooth."""
