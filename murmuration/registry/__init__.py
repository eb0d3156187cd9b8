"""The indicator registry: the initiative's agreed definitions, loaded and validated."""

from murmuration.registry.loader import Registry, load_registry
from murmuration.registry.yamlfile import RegistryError

__all__ = ["Registry", "RegistryError", "load_registry"]
