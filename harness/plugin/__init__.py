"""The epson-hil pytest plugin, split like labgrid's: ``hooks`` (options, markers, collection, outcomes) and
``fixtures`` (the lab, devices, the Microsoft side). ``harness.pytest_plugin`` registers both."""
