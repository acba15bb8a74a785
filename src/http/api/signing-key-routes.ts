/** The registry tokens' signing keys: list them, rotate them (cluster-admin). */

import { z } from 'zod';
import type { SigningKeys } from '../../identity/signing-keys.ts';
import { API_VERSION } from './resources.ts';
import type { AccessRule, RouteFn } from './route-kit.ts';

const administer: AccessRule = { kind: 'verb', verb: 'manage-users', what: 'manage the token-signing keys', details: { kind: 'signingkeys' } };

/**
 * `GET /signingkeys` lists the public keys that verify registry tokens;
 * `POST /signingkeys/rotate` makes a new key the signing one. Older keys stay
 * valid for verification, so tokens already issued keep working until they
 * expire (a few minutes); the JWKS at /v2/token/jwks shows them all.
 */
export function signingKeyRoutes(route: RouteFn, keys: SigningKeys): void {
  const keyList = async () => ({
    apiVersion: API_VERSION,
    kind: 'SigningKeyList',
    metadata: {},
    items: (await keys.jwks()).keys.map((key) => ({ apiVersion: API_VERSION, kind: 'SigningKey', metadata: { name: key.kid }, spec: { algorithm: key.alg, publicKey: key } })),
  });
  route({
    method: 'GET',
    url: '/signingkeys',
    params: z.object({}),
    access: () => administer,
    handle: async () => ({ status: 200, body: await keyList() }),
  });
  route({
    method: 'POST',
    url: '/signingkeys/rotate',
    params: z.object({}),
    access: () => administer,
    handle: async () => {
      const kid = await keys.rotate();
      return { status: 201, body: { apiVersion: API_VERSION, kind: 'SigningKeyRotation', status: { signingKey: kid } } };
    },
  });
}
