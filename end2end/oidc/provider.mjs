// Local OpenID Connect provider for end-to-end tests (oidc-provider 9.x, ESM).
//   node end2end/oidc/provider.mjs (installed by npm ci in end2end/)
// Env: OIDC_PORT (3300), OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI.
// Dev interactions: the login page accepts ANY login + ANY password.
//   login "alice"                -> sub "alice", email "alice@example.test", email_verified true
//   login "bob@corp.test"        -> email "bob@corp.test"
//   login containing "unverified" -> email_verified false
import Provider from 'oidc-provider';

const PORT = Number(process.env.OIDC_PORT ?? 3300);
const ISSUER = `http://127.0.0.1:${PORT}`;
const CLIENT_ID = process.env.OIDC_CLIENT_ID ?? 'spacedly-test';
const CLIENT_SECRET = process.env.OIDC_CLIENT_SECRET ?? 'spacedly-test-secret';
const REDIRECT_URI = process.env.OIDC_REDIRECT_URI
  ?? `http://127.0.0.1:${process.env.E2E_PORT ?? 3100}/api/auth/google/callback`;

function claimsFor(login) {
  const email = login.includes('@') ? login : `${login}@example.test`;
  return {
    sub: login,
    email,
    email_verified: !login.toLowerCase().includes('unverified'),
    name: `Test ${login.split('@')[0]}`,
  };
}

const configuration = {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    // oauth2 crate default is HTTP Basic (AuthType::BasicAuth) == client_secret_basic.
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  // Put scope-requested claims (email, name) into the ID token too, like Google does.
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: true }, // built-in login page (any login/password)
    userinfo: { enabled: true },
  },
  cookies: { keys: ['test-only-cookie-key-not-secret'] },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims(use, scope) { return claimsFor(id); },
    };
  },
  // Skip the consent screen: auto-grant the requested scopes to our single client.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid email profile');
    await grant.save();
    return grant;
  },
};

const provider = new Provider(ISSUER, configuration);
provider.listen(PORT, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${ISSUER}/.well-known/openid-configuration`);
});
