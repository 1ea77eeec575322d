"""The simulated deck: mechanism physics, virtual cassettes, chip models, faults, simulated time."""
