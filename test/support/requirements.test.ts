import { describe, expect, it } from 'vitest';
import { skipNotice } from './requirements.ts';

describe('skipNotice', () => {
  it('is undefined when every needed program is installed', () => {
    expect(skipNotice(['ngircd', 'chromium'], () => '/usr/bin/true')).toBeUndefined();
  });

  it('names the one missing program and how to install it', () => {
    const found = (name: string) => (name === 'ngircd' ? undefined : '/usr/bin/chromium');

    expect(skipNotice(['ngircd', 'chromium'], found)).toBe('skipped: ngircd is not installed (apt-get install ngircd)');
  });

  it('names every missing program on one line', () => {
    const notice = skipNotice(['ngircd', 'chromium'], () => undefined);

    expect(notice).toBe(
      'skipped: ngircd is not installed (apt-get install ngircd); chromium is not installed (apt-get install chromium)',
    );
    expect(notice).not.toContain('\n');
  });

  it('says how to get InspIRCd, which is unpacked rather than installed', () => {
    expect(skipNotice(['inspircd'], () => undefined)).toBe(
      'skipped: inspircd is not installed (npm run programs:inspircd)',
    );
  });

  it('ignores programs the file does not need', () => {
    expect(skipNotice(['ngircd'], (name) => (name === 'chromium' ? undefined : '/usr/sbin/ngircd'))).toBeUndefined();
  });
});
