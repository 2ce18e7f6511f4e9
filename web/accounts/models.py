from web.accounts.tokens import Token

__all__ = ["Token"]
