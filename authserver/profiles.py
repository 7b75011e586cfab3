"""Client profiles: the rules a security profile adds to a client, asked of one object instead
of `profile == "fapi2"` tests spread over the grants, PKCE, client authentication and
registration. `profile_of(client.profile)` gives the profile; every question has the plain
answer for a client without one.

A leaf beside policy.py (it imports nothing else of authserver): the store (registration),
the grants and the JWT code all ask it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .policy import CLIENT_ASSERTION_ALGS, SIGNING_ALGS

FAPI2 = "fapi2"
PROFILES = (FAPI2,)


class ProfileError(ValueError):
    """A client cannot have this profile as registered (or as the server is configured); the
    message says why."""


@dataclass(frozen=True)
class ClientProfile:
    name: str | None
    # The JWT algorithms the client's tokens, assertions, request objects and DPoP proofs may
    # use (None: any the server supports).
    algorithms: tuple[str, ...] | None = None
    grant_types: frozenset[str] | None = None  # None: any
    forces_par: bool = False
    forces_dpop: bool = False
    forces_pkce: bool = False
    code_ttl: int | None = None  # the most seconds a code may live (None: the server's)
    refresh_grace: int = 0  # the least seconds a rotated refresh token stays accepted
    issuer_audience_only: bool = False  # client assertions name the issuer, and only it
    pushed_redirect_uri: bool = False  # a pushed request must give its redirect_uri

    def accepts_alg(self, alg: object) -> bool:
        """May a JWT from this client (assertion, request object, DPoP proof) use `alg`?"""
        return alg in (self.algorithms or CLIENT_ASSERTION_ALGS)

    def accepted_algs(self) -> list[str]:
        return list(self.algorithms or CLIENT_ASSERTION_ALGS)

    def signing_alg(self, chosen: str | None, configured: tuple[str, ...]) -> str:
        """The algorithm of a JWT we sign for this client: `chosen` (the client's or the API's)
        when set and allowed, else the first configured one the profile allows."""
        allowed = [a for a in configured if self.algorithms is None or a in self.algorithms]
        if chosen in allowed:
            return chosen  # type: ignore[return-value]
        if not allowed:
            # Registration refuses such a client; a setting changed since is the operator's.
            raise ProfileError(f"AUTHSERVER_SIGNING_ALGS has none of {' '.join(self.algorithms or ())}"
                               f" that {self.name} clients need")
        return configured[0] if configured[0] in allowed else allowed[0]

    def code_lifetime(self, server_ttl: int) -> int:
        return server_ttl if self.code_ttl is None else min(server_ttl, self.code_ttl)

    def check_registration(self, *, method: str, grants: list[str], has_keys: bool,
                           configured: tuple[str, ...]) -> None:
        """What the profile needs of a client's registration; raises ProfileError."""


@dataclass(frozen=True)
class Fapi2(ClientProfile):
    """FAPI 2.0 Security Profile (final) §5: private_key_jwt (mTLS is not offered here), the
    code grant (and refresh), PAR, PKCE S256, DPoP-bound tokens, codes of 60 s at most, and
    JWTs signed with PS256, ES256 or EdDSA only (§5.4.1)."""

    def check_registration(self, *, method: str, grants: list[str], has_keys: bool,
                           configured: tuple[str, ...]) -> None:
        if method != "private_key_jwt":
            raise ProfileError("--profile fapi2 needs --auth-method private_key_jwt (FAPI 2.0 "
                               "5.3.2.1: no client secrets)")
        if "authorization_code" not in grants or not set(grants) <= (self.grant_types or set()):
            raise ProfileError("--profile fapi2 allows only the authorization_code grant "
                               "(and refresh_token)")
        if not has_keys:
            raise ProfileError("--profile fapi2 needs the client's keys (--jwks FILE)")
        if not any(a in (self.algorithms or ()) for a in configured):
            raise ProfileError("--profile fapi2 needs PS256, ES256 or EdDSA in "
                               "AUTHSERVER_SIGNING_ALGS (FAPI 2.0 5.4.1); it has "
                               + " ".join(configured))


PLAIN = ClientProfile(name=None)
FAPI2_PROFILE = Fapi2(
    name=FAPI2,
    algorithms=tuple(a for a in SIGNING_ALGS if a in ("PS256", "ES256", "EdDSA")),
    grant_types=frozenset({"authorization_code", "refresh_token"}),
    forces_par=True, forces_dpop=True, forces_pkce=True,
    code_ttl=60,  # FAPI 2.0 §5.3.2.1: "shall ... a maximum of 60 seconds"
    # §5.3.2.1: a client whose refresh response was lost keeps working: its previous token is
    # accepted again for a while (its child then goes stale).
    refresh_grace=60,
    issuer_audience_only=True,  # §5.3.2.1: the issuer identifier, and only it
    pushed_redirect_uri=True,  # §5.3.2.2: "shall require the redirect_uri parameter in PAR"
)


def profile_of(name: str | None) -> ClientProfile:
    if name is None:
        return PLAIN
    if name == FAPI2:
        return FAPI2_PROFILE
    raise ProfileError(f"unknown profile {name!r} (only {FAPI2!r})")
