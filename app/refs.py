"""Entity refs (``kind:namespace/name``) and the portal addresses built from them."""

from __future__ import annotations

from prr.config import Config


def split_ref(ref: str) -> tuple[str, str, str]:
    """``component:default/checkout`` -> ``("component", "default", "checkout")``."""
    kind, _, rest = ref.partition(":")
    namespace, _, name = rest.partition("/")
    return kind, namespace, name


def join_ref(kind: str, namespace: str, name: str) -> str:
    """The entity ref from its path parts, lower-cased as refs are stored."""
    return f"{kind}:{namespace}/{name}".lower()


def portal_link(config: Config, ref: str) -> str | None:
    """The service's page in the portal: ``portal.base_url`` + ``/services/{kind}/{namespace}/{name}``."""
    base = (config.data.get("portal") or {}).get("base_url")
    if not base:
        return None
    kind, namespace, name = split_ref(ref)
    return f"{base.rstrip('/')}/services/{kind}/{namespace}/{name}"
