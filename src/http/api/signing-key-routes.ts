/** The registry tokens' signing keys: list, rotate and retire them (cluster-admin). */

import { z } from 'zod';
import type { SigningKeys } from '../../identity/signing-keys.ts';
import { API_VERSION } from './resources.ts';
import type { AccessRule, RouteFn } from './route-kit.ts';
import { ApiError } from './status.ts';

const administer: AccessRule = { kind: 'verb', verb: 'manage-users', what: 'manage the token-signing keys', details: { kind: 'signingkeys' } };

/** A key id as the routes accept it: RFC 7638 thumbprints are 43 base64url characters; anything base64url up to 100. */
const KidParams = z.object({ kid: z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'a key id is base64url text') });

/**
 * `GET /signingkeys` lists the active keys, the signing one (newest) first;
 * `POST /signingkeys/rotate` makes a new key the signing one (older keys
 * keep verifying, so tokens already issued keep working until they expire);
 * `POST /signingkeys/{kid}/retire` retires a key at once: it leaves the
 * JWKS and the tokens it signed are refused from then on, expired or not
 * (their clients fetch new ones). The only active key cannot be retired.
 */
export function signingKeyRoutes(route: RouteFn, keys: SigningKeys): void {
  const keyList = async () => ({
    apiVersion: API_VERSION,
    kind: 'SigningKeyList',
    metadata: {},
    items: (await keys.list()).map((key, index) => ({
      apiVersion: API_VERSION,
      kind: 'SigningKey',
      metadata: { name: key.kid, creationTimestamp: new Date(key.createdAt).toISOString() },
      spec: { algorithm: key.algorithm, publicKey: key.publicJwk },
      status: { signing: index === 0 },
    })),
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
  route({
    method: 'POST',
    url: '/signingkeys/:kid/retire',
    params: KidParams,
    access: () => administer,
    handle: async ({ params }) => {
      const outcome = await keys.retire(params.kid);
      if (outcome === 'unknown') throw new ApiError('NotFound', `no active signing key ${JSON.stringify(params.kid)}`, { kind: 'signingkeys', name: params.kid });
      if (outcome === 'only-key') {
        throw new ApiError('Conflict', `signing key ${params.kid} is the only active key: rotate first (berth adm signing-keys rotate), then retire it`, {
          kind: 'signingkeys',
          name: params.kid,
        });
      }
      const signing = (await keys.list())[0]?.kid;
      return { status: 200, body: { apiVersion: API_VERSION, kind: 'SigningKeyRetirement', metadata: { name: params.kid }, status: { retired: true, signingKey: signing } } };
    },
  });
}
