import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../app/contract';
import { ClientError, asSentence, createClient, describeError, errorCode, errorMessage } from '../../renderer/src/client';
import { ALICE, FakeBridge, flush, message, profileStatus } from './fakes';

describe('client.call', () => {
  it('resolves with the value checked against the result schema', async () => {
    const fake = new FakeBridge().handle('profile.status', () => profileStatus({ state: 'locked' }));
    const client = createClient(fake.bridge);
    await expect(client.call('profile.status', {})).resolves.toEqual(profileStatus({ state: 'locked' }));
    expect(fake.calls[0]?.params).toEqual({});
  });

  it('turns a backend-unavailable answer into words for a person, keeping the code', async () => {
    const fake = new FakeBridge();
    const client = createClient(fake.bridge);
    const pending = client.call('contacts.list', {});
    fake.next('contacts.list').fail(ERROR_CODES.backendUnavailable, 'backend process exited');
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).code).toBe('backend_unavailable');
    expect((error as ClientError).message).toMatch(/background service is not running/);
    expect((error as ClientError).detail).toBe('backend process exited');
    expect((error as ClientError).method).toBe('contacts.list');
  });

  it('names the field of an invalid_params answer', async () => {
    const fake = new FakeBridge();
    const client = createClient(fake.bridge);
    const pending = client.call('profile.unlock', { passphrase: 'short' });
    fake.next('profile.unlock').fail(ERROR_CODES.invalidParams, 'passphrase: at least 8 characters');
    await expect(pending).rejects.toThrow('Passphrase: at least 8 characters.');
  });

  it("shows a service's own message as a sentence", async () => {
    const fake = new FakeBridge();
    const client = createClient(fake.bridge);
    const pending = client.call('profile.unlock', { passphrase: 'long enough' });
    fake.next('profile.unlock').fail('profile.wrong_passphrase', 'the passphrase is not right');
    const error = (await pending.catch((e: unknown) => e)) as ClientError;
    expect(error.message).toBe('The passphrase is not right.');
    expect(error.code).toBe('profile.wrong_passphrase');
  });

  it('refuses an answer that does not match the result schema', async () => {
    const fake = new FakeBridge().handle('relay.status', () => ({ enabled: 'yes' }));
    const client = createClient(fake.bridge);
    const error = (await client.call('relay.status', {}).catch((e: unknown) => e)) as ClientError;
    expect(error).toBeInstanceOf(ClientError);
    expect(error.code).toBe(ERROR_CODES.badResponse);
    expect(error.message).toMatch(/does not understand/);
  });

  it('reports a bridge that throws as a client error', async () => {
    const fake = new FakeBridge();
    const client = createClient(fake.bridge);
    const pending = client.call('app.version', {});
    fake.next('app.version').reject(new Error('channel closed'));
    const error = (await pending.catch((e: unknown) => e)) as ClientError;
    expect(error.code).toBe('client');
    expect(error.detail).toBe('channel closed');
    expect(error.message).toMatch(/could not reach/);
  });

  it('checks its arguments', async () => {
    const client = createClient(new FakeBridge().bridge);
    await expect(client.call('nope' as 'app.version', {})).rejects.toThrow(TypeError);
    await expect(client.call('app.version', null as never)).rejects.toThrow(/params/);
    expect(() => createClient(null as never)).toThrow(/bridge/);
    expect(() => createClient({ invoke: () => {} } as never)).toThrow(TypeError);
    expect(() => client.on('nope' as 'chat.message', () => {})).toThrow(TypeError);
    expect(() => client.on('chat.message', 'x' as never)).toThrow(/callback/);
  });
});

describe('client.on', () => {
  it('delivers payloads that match the contract and drops the others', async () => {
    const fake = new FakeBridge();
    const invalid: string[] = [];
    const client = createClient(fake.bridge, { onInvalidEvent: (event, reason) => invalid.push(`${event}: ${reason}`) });
    const got: unknown[] = [];
    const off = client.on('chat.message', (m) => got.push(m.id));
    const good = message({ peer: ALICE });
    fake.emit('chat.message', good);
    fake.emit('chat.message', { ...good, peer: 'not a key' });
    expect(got).toEqual([good.id]);
    expect(invalid).toHaveLength(1);
    expect(invalid[0]).toMatch(/^chat\.message: peer/);
    off();
    fake.emit('chat.message', good);
    await flush();
    expect(got).toHaveLength(1);
  });
});

describe('error words', () => {
  it('describes transport codes with fixed words and unknown codes with their message', () => {
    expect(describeError({ code: 'timeout', message: 'no answer in 30 s' })).toMatch(/took too long/);
    expect(describeError({ code: 'internal', message: 'internal error' })).toMatch(/log/);
    expect(describeError({ code: 'contacts.exists', message: 'already a contact' })).toBe('Already a contact.');
    expect(describeError({ code: 'contacts.x', message: '' })).toBe('The action failed.');
    expect(describeError({ code: 'invalid_params', message: 'weird' })).toBe('Some of the input was not accepted: weird.');
    expect(describeError({ code: 'invalid_params', message: 'unknownField: bad' })).toBe('Some of the input was not accepted: bad.');
    expect(() => describeError(null as never)).toThrow(TypeError);
  });

  it('writes sentences', () => {
    expect(asSentence('hello')).toBe('Hello.');
    expect(asSentence('Done!')).toBe('Done!');
    expect(asSentence('  ')).toBe('');
    expect(() => asSentence(3 as never)).toThrow(TypeError);
  });

  it('gives words and codes for anything thrown', () => {
    expect(errorMessage(new ClientError('x', 'Words.', 'detail'))).toBe('Words.');
    expect(errorMessage(new Error('plain'))).toBe('Plain.');
    expect(errorMessage('str')).toBe('Something went wrong.');
    expect(errorCode(new ClientError('timeout', 'w', 'd'))).toBe('timeout');
    expect(errorCode(new Error('x'))).toBe('client');
  });
});
