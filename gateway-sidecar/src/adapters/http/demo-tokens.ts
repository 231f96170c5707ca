/**
 * Demo tokens: with `http.demoTokens: 'auto'` and no authentication configured (no tokens, no
 * gateway secret) — the `npm start` demo — the sidecar makes one random token per role so the
 * preview page can call the API. docs/api.md ("Demo tokens") describes the risk.
 */
import { randomBytes } from 'node:crypto';
import type { Role } from '../../domain/recommendation-view.ts';
import type { AuthOptions } from './auth.ts';

export interface DemoTokens {
  readonly tokens: readonly {
    readonly token: string;
    readonly user: string;
    readonly roles: readonly Role[];
  }[];
  /** The token injected into the preview page (operator). */
  readonly pageToken: string;
}

export function demoTokensNeeded(
  mode: 'auto' | 'off',
  auth: Pick<AuthOptions, 'tokens' | 'gatewaySecret'>,
): boolean {
  return mode === 'auto' && auth.tokens.length === 0 && auth.gatewaySecret === undefined;
}

export function generateDemoTokens(): DemoTokens {
  const make = (role: Role): { token: string; user: string; roles: Role[] } => ({
    token: `demo-${role}-${randomBytes(18).toString('base64url')}`,
    user: `demo-${role}`,
    roles: [role],
  });
  const tokens = [make('viewer'), make('operator'), make('engineer')];
  return { tokens, pageToken: (tokens[1] as { token: string }).token };
}
