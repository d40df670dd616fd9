"""The first handshake of an edge module instance: a single-use provisioning token buys its first key.

The token (issued by ``listProvisioningToken``) is spent by
``kinds.edge_modules.redeem_provisioning_token``: exactly one caller succeeds even when two
instances race, and a replayed, expired, forged or deleted module's token is refused (401).
The instance (``instanceId``, chosen by the module) gets a fresh key; an instance that shakes
hands again (with a new token) loses the keys it had.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ova.auth.service_tokens import InvalidServiceToken
from ova.cloud.db.models import AccountRow, EdgeModuleInstanceRow, ResourceRow
from ova.cloud.domain.arm import ACCOUNT_TYPE
from ova.cloud.domain.edge_link import module_keys
from ova.cloud.domain.edge_link.link import EdgeLink
from ova.cloud.domain.edge_link.policy import edge_policy
from ova.cloud.domain.kinds.edge_modules import redeem_provisioning_token
from ova.contracts.edge_api import ProvisioningRequest, ProvisioningResponse


async def handshake(
    link: EdgeLink, session: AsyncSession, request: ProvisioningRequest
) -> ProvisioningResponse:
    """Spend the token, record the instance, answer its first key and the policy."""
    services = link.services
    if not request.provisioning_token.isascii():  # a JWT is ASCII; the JWT library would choke on it
        raise InvalidServiceToken("The token is invalid.")
    module = await redeem_provisioning_token(
        session, services.tokens, request.provisioning_token, services.clock.now()
    )
    instance = await record_instance(link, session, module, request)
    key = await module_keys.issue(link, session, instance)
    account = await session.get(AccountRow, module.account_id)
    assert account is not None  # the module row references it
    return ProvisioningResponse(
        edge_module_id=module.document["internal"]["edgeModuleId"],
        edge_module_name=module.name,
        account_id=account_arm_id(account),
        module_key=key,
        policy=edge_policy(link),
    )


async def record_instance(
    link: EdgeLink, session: AsyncSession, module: ResourceRow, request: ProvisioningRequest
) -> EdgeModuleInstanceRow:
    """The instance row of ``request.instance_id``, new, or an existing one stripped of its keys."""
    statement = select(EdgeModuleInstanceRow).where(
        EdgeModuleInstanceRow.resource_id == module.id,
        EdgeModuleInstanceRow.instance_id == request.instance_id,
    )
    instance = (await session.execute(statement)).scalar_one_or_none()
    if instance is not None:
        await module_keys.revoke_instance(session, instance.id)
        instance.module_version = request.module_version
        return instance
    instance = EdgeModuleInstanceRow(
        id=module_keys.new_instance_row_id(),
        resource_id=module.id,
        instance_id=request.instance_id,
        module_version=request.module_version,
        created_at=link.services.clock.now(),
    )
    session.add(instance)
    await session.flush()
    return instance


def account_arm_id(account: AccountRow) -> str:
    return (
        f"/subscriptions/{account.subscription_id}/resourceGroups/{account.resource_group}"
        f"/providers/{ACCOUNT_TYPE}/{account.name}"
    )
