"""Where things are when nobody says: the default inventory and the lab's state directory (both per checkout)."""

from pathlib import Path

DEFAULT_INVENTORY = Path("fixtures") / "virtual-lab.yaml"
DEFAULT_STATE_DIR = Path(".lab")
