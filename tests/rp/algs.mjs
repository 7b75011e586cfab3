// Tokens of every signing algorithm, checked by openid-client (a certified RP library) and by
// jose, its JOSE library: for each client given on stdin (one JSON line: client_id,
// client_secret, alg, resource, username, password), a password grant whose ID token
// openid-client verifies against the JWKS (non-repudiation checks on: the signature, not only
// TLS) with that client's id_token_signed_response_alg, and whose access token (for an API
// signing with the same algorithm) jose verifies against the same JWKS. One JSON line each.
import * as client from 'openid-client'
import * as jose from 'jose'
import { createInterface } from 'node:readline'

const [issuer] = process.argv.slice(2)
const print = (value) => console.log(JSON.stringify(value))
const header = (token) => JSON.parse(Buffer.from(token.split('.')[0], 'base64url'))

for await (const line of createInterface({ input: process.stdin })) {
  const given = JSON.parse(line)
  const config = await client.discovery(
    new URL(issuer), given.client_id, { id_token_signed_response_alg: given.alg },
    client.ClientSecretPost(given.client_secret), { execute: [client.allowInsecureRequests] })
  client.enableNonRepudiationChecks(config)
  const tokens = await client.genericGrantRequest(config, 'password', {
    username: given.username, password: given.password, scope: `openid ${given.scope}`,
    resource: given.resource,
  })
  const claims = tokens.claims()
  const jwks = jose.createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri))
  const access = await jose.jwtVerify(tokens.access_token, jwks, {
    issuer, audience: given.resource, typ: 'at+jwt', algorithms: [given.alg],
  })
  print({
    alg: given.alg,
    sub: claims.sub,
    id_token_alg: header(tokens.id_token).alg,
    access_token_alg: access.protectedHeader.alg,
  })
}
