/**
 * The API's view of a remote collector (GET /collectors, POST /collectors/claim).
 * Placeholder until the server's JSON schema for it is in @openbms/contract/api.
 */
export interface RemoteCollectorView {
  serial: string;
  gateway_id: string;
  state: 'unclaimed' | 'claimed' | 'revoked';
  org_id?: string;
  plant_id?: string;
  version?: string;
  first_seen_at: number;
  last_seen_at: number;
  claimed_at?: number;
  revoked_at?: number;
  online?: boolean | null;
}
