// node oidc-provider as an upstream OpenID provider for the federation tests
// (tests/test_federation_node.py): one confidential client (client_secret_basic, the code
// flow with PKCE), its development login and consent pages (any login name signs in as that
// name), and the account's claims in the ID token. Arguments: port, client_id,
// client_secret, redirect_uri, kid (a new kid is a key rotation).
import { generateKeyPairSync } from 'node:crypto'
import Provider from 'oidc-provider'

const [port, clientId, clientSecret, redirectUri, kid] = process.argv.slice(2)
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const jwk = { ...privateKey.export({ format: 'jwk' }), alg: 'RS256', use: 'sig', kid }

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    redirect_uris: [redirectUri],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [jwk] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'] },
  conformIdTokenClaims: false, // the scope's claims in the ID token (we read no userinfo)
  features: { devInteractions: { enabled: true } },
  async findAccount (ctx, id) {
    return {
      accountId: id,
      async claims () {
        return { sub: id, email: `${id}@node.example`, email_verified: true, name: `Node ${id}`, preferred_username: id }
      },
    }
  },
})
provider.listen(Number(port), '127.0.0.1', () => console.log(`listening ${port}`))
