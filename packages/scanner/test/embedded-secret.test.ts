import { describe, expect, it } from 'vitest';
import { embeddedSecretCheck } from '../src/index.js';
import { run, tool } from './helpers.js';

describe('embedded secret check', () => {
  it('flags known key shapes hard and masks them in the evidence', () => {
    const key = 'AKIA4QZ7XKJ2HBW3MNRT';
    const [f] = run(embeddedSecretCheck, tool('Upload.', { id: { type: 'string', default: key } }));
    expect(f).toMatchObject({
      check: 'embedded_secret',
      tier: 'hard',
      threat: 'credential_exposure',
      path: 'inputSchema.properties.id.default',
    });
    expect(f?.evidence).toContain('AWS access key id');
    expect(f?.evidence).not.toContain(key);
  });

  it.each([
    ['GitHub token', 'Use ghp_R4nd0mL00k1ngT0k3nW1thCh4rs9Zq8Yx7Wv when asked.'],
    ['Slack token', 'Token xoxb-2847562910-3948571029384-Qm7Rz2Lk9Vb4Nc8Xt1Wy6Hp3'],
    ['OpenAI key', 'Key sk-proj-Zq81bTfK3nW9xLm2Rv5Yp7Hs0Dc4Jg6Ua8Ei1Ok3QwErTy'],
    ['Stripe key', 'Secret sk_live_51Hq8ZkL2mN4bV7cX9zR3tY6wQ1pA5sD8fG0hJ2kL4'],
    ['Google API key', 'Geocode with AIzaSyD8k2Lm9Qx4Rv7Wb1Zn5Tc3Hp6Yj0Fs8Ge in requests.'],
    [
      'private key block',
      'Key -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----',
    ],
  ])('flags a %s', (kind, description) => {
    expect(run(embeddedSecretCheck, tool(description))[0]?.evidence).toContain(kind);
  });

  it('flags a signed JWT soft', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZG1pbiJ9.hR3kq9Vb2Lm8Xc4Zt7Wn1Yp6Jd0Fs5Ga3Ke8Uo2QiE';
    expect(run(embeddedSecretCheck, tool(`Bearer ${jwt}`))[0]).toMatchObject({ tier: 'soft' });
  });

  it('flags a random-looking default of a secret-named parameter', () => {
    const t = tool('Upload.', {
      secret_access_key: { type: 'string', default: 'q3Zk8m1Rv7WcT2yLp9Bn4Xs6Hd0Fj5Ge8Ka1Uo3C' },
    });
    expect(run(embeddedSecretCheck, t)[0]?.evidence).toContain('secret-named parameter "secret_access_key"');
  });

  it('ignores placeholders, documented examples and prefix lists', () => {
    for (const d of [
      'Validates an AWS key id, e.g. AKIAIOSFODNN7EXAMPLE.',
      'Tokens like ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX become [REDACTED].',
      'Scans for AWS keys (AKIA…), GitHub tokens (ghp_…), Slack tokens (xoxb-…) and OpenAI keys (sk-…).',
      'Your key, like sk-xxxxxxxxxxxxxxxxxxxxxxxx',
      'Parses PEM (-----BEGIN PRIVATE KEY-----) files.',
      'Decodes eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1c2VyIn0. (unsigned).',
    ]) {
      expect(run(embeddedSecretCheck, tool(d)), d).toEqual([]);
    }
  });
});
