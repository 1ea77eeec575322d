"""The simulated hardware: mechanism physics, virtual cassettes, chip models, faults, simulated
time, and the simulated board on them. The harness that runs the player on it (with the
BlueZ mock and the simulated headphones) is capstan.harness."""
