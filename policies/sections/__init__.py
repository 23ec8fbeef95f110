"""The sections of a policy, one module each; the whole policy is ``model.Policy``.

- ``base``: what every section shares (strict, closed, frozen; which fields the host wrote);
- ``entry``: who gets in and how (password, waiting room, full names, camera, identity);
- ``audio``: mute on entry and who lifts a mute;
- ``sharing``: screen and file sharing;
- ``chat``: who may send, and who may be written to privately;
- ``removal``: what a removed participant may do.

``model`` re-exports every section, so ``meetwarden.policies.model`` names any part of a policy.
"""
