"""linewatch core: settings, inventory, enumerations, the InfluxDB client and the CLI."""

__version__ = "0.1.0"
