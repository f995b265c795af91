from groupbill.clients.actions import create_group

DEFAULT_GROUP_NAME = "General"


def create_default_group(sender, company, actor: str, **kwargs) -> None:
    """Every company has a default client group, its first, from the start."""
    create_group(company, {"name": DEFAULT_GROUP_NAME}, actor=actor)
