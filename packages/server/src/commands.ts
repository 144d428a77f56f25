/**
 * Commands from the server to a gateway, through the seam: each gets a transaction id (a
 * ULID), names the principal it runs for (checked by the policy before it is sent), and comes
 * back as a typed result. A result that is not `done` becomes the BmsError it reports, so the
 * HTTP status and body are what they were when the routes called the control service directly
 * (409 refused, 422 a parameter, 501 a capability, 502 a read-back...).
 */
import {
  SEAM_VERSION,
  type CommandOf,
  type CommandOp,
  type CommandResult,
  type GatewayCommand,
} from '@openbms/contract/gateway';
import { BmsError, ERROR_CODES, type ErrorCode } from '@openbms/core';
import { newId } from '@openbms/storage';
import type { GatewayLink } from './gateway-api.js';
import type { Principal } from './policy.js';

const knownCode = (code: string | undefined): code is ErrorCode =>
  code !== undefined && Object.hasOwn(ERROR_CODES, code);

/** The error a result that was not done reports (an unknown code is INTERNAL). */
export function resultError(r: CommandResult): BmsError {
  return new BmsError(knownCode(r.code) ? r.code : 'INTERNAL', r.detail, r.details);
}

/**
 * Sends one command for `principal` to `link` and returns its result when done; throws the
 * reported error otherwise (and GATEWAY_UNAVAILABLE when a remote gateway did not answer).
 */
export async function sendCommand<O extends CommandOp>(
  link: GatewayLink,
  principal: Principal,
  packId: string,
  op: O,
  args: CommandOf<O>['args'],
): Promise<CommandResult> {
  const result = await sendCommandResult(link, principal, packId, op, args);
  if (result.status !== 'done') throw resultError(result);
  return result;
}

/**
 * As sendCommand, but a command the gateway refused or that failed there comes back as its
 * result instead of an error (a batch reports each pack's outcome). A gateway that did not
 * answer still throws.
 */
export function sendCommandResult<O extends CommandOp>(
  link: GatewayLink,
  principal: Principal,
  packId: string,
  op: O,
  args: CommandOf<O>['args'],
): Promise<CommandResult> {
  const command = {
    v: SEAM_VERSION,
    txn: newId(),
    gatewayId: link.gatewayId,
    packId,
    op,
    args,
    principal: { userId: principal.userId, username: principal.username, orgId: link.orgId },
  } as GatewayCommand;
  return link.send(command);
}
