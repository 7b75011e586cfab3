// node oidc-provider configured like authserver's benchmark: one confidential client,
// client_credentials, JWT access tokens (resource indicators, accessTokenFormat 'jwt') signed
// with the algorithm given after the port: RS256 (default, an RSA-2048 key) or ES256 (P-256).
import { generateKeyPairSync } from 'node:crypto'
import Provider from 'oidc-provider'

const port = Number(process.argv[2] || 3000)
const alg = process.argv[3] || 'RS256'
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
const keys = [{ ...rsa.export({ format: 'jwk' }), alg: 'RS256', use: 'sig', kid: 'bench' }]
if (alg === 'ES256') {
  // The RSA key stays for what oidc-provider signs with RS256 by default (ID tokens).
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
  keys.unshift({ ...ec.export({ format: 'jwk' }), alg, use: 'sig', kid: 'bench-es256' })
}

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: 'bench',
    client_secret: 'bench-secret-bench-secret-bench-secret',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys },
  scopes: ['api'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => 'http://127.0.0.1/api',
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'api',
        accessTokenFormat: 'jwt',
        accessTokenTTL: 900,
        jwt: { sign: { alg } },
      }),
    },
  },
})
provider.listen(port, '127.0.0.1', () => console.log(`listening ${port}`))
