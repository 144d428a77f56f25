/**
 * The collector's onboarding (issue 15, docs/collectors.md): `GET /api/v1/link` tells an
 * admin of this box its serial number and claim code, for adding it to a fleet cloud (the
 * console shows them as text and a QR code). The credentials the cloud gave it never leave
 * the data directory.
 */
import type { FastifyInstance } from 'fastify';
import { BmsError } from '@openbms/core';
import { errorResponses } from '@openbms/contract/api';

/** What `GET /link` answers. */
export interface CollectorLinkView {
  serial: string;
  claim_code: string;
  claimed: boolean;
  cloud_url: string;
}

const linkViewSchema = {
  type: 'object',
  required: ['serial', 'claim_code', 'claimed', 'cloud_url'],
  additionalProperties: false,
  properties: {
    serial: { type: 'string', description: 'OB and 10 characters' },
    claim_code: { type: 'string', description: '8 characters, shown as XXXX-XXXX' },
    claimed: { type: 'boolean', description: 'Whether the cloud has given it its credentials' },
    cloud_url: { type: 'string' },
  },
} as const;

export function linkRoutes(
  app: FastifyInstance,
  link: (() => CollectorLinkView | undefined) | undefined,
): void {
  app.get(
    '/link',
    {
      config: { access: 'admin', box: true },
      schema: {
        summary: "This collector's serial number and claim code, to add it to a fleet cloud",
        description:
          'Only when the config has `cloud.url` (404 otherwise). The claim code is a secret of ' +
          "the box's admins: whoever has it can claim the collector in the cloud until it is claimed.",
        tags: ['settings'],
        response: { 200: linkViewSchema, ...errorResponses(403, 404) },
      },
    },
    async () => {
      const view = link?.();
      if (!view)
        throw new BmsError(
          'NOT_FOUND',
          'this box is not a collector of a fleet cloud (no cloud.url in its config)',
        );
      return view;
    },
  );
}
