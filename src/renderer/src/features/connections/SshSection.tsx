/** The connection form's SSH tunnel settings: a bastion host the database is reached through. */
import type { SshFields } from './urlForm';

const AUTH: [SshFields['auth'], string][] = [
  ['key', 'Private key'],
  ['agent', 'ssh-agent'],
  ['password', 'Password'],
];

/** A key's passphrase or the SSH password: from an environment variable, or typed for this session only. */
function Secret({
  ssh,
  onChange,
  what,
  envField,
  envPlaceholder,
  rememberIn,
}: {
  ssh: SshFields;
  onChange(patch: Partial<SshFields>): void;
  what: 'Passphrase' | 'Password';
  envField: 'passphraseEnv' | 'passwordEnv';
  envPlaceholder: string;
  /** Where a passphrase can be remembered (null: nowhere here). */
  rememberIn?: string | null;
}) {
  const canRemember = what === 'Passphrase' && Boolean(rememberIn);
  return (
    <>
      <div className="field-row">
        <label className="field">
          <span>{what}</span>
          <select aria-label={`SSH ${what.toLowerCase()} source`} value={ssh.secretMode} onChange={(e) => onChange({ secretMode: e.target.value as SshFields['secretMode'] })}>
            <option value="env">from an environment variable</option>
            <option value="typed">{canRemember ? 'typed' : 'typed (this session only)'}</option>
          </select>
        </label>
        {ssh.secretMode === 'env' ? (
          <label className="field grow">
            <span>Variable</span>
            <input value={ssh[envField]} placeholder={envPlaceholder} spellCheck={false} onChange={(e) => onChange({ [envField]: e.target.value })} />
          </label>
        ) : (
          <label className="field grow">
            <span>SSH {what.toLowerCase()}</span>
            <input
              type="password"
              value={ssh.secret}
              placeholder={ssh.secretKnown ? '•••• unchanged' : ''}
              autoComplete="new-password"
              onChange={(e) => onChange({ secret: e.target.value })}
            />
          </label>
        )}
      </div>
      {canRemember && ssh.secretMode === 'typed' ? (
        <label className="check">
          <input type="checkbox" checked={ssh.remember} onChange={(e) => onChange({ remember: e.target.checked })} />
          Remember passphrase (in {rememberIn})
        </label>
      ) : null}
    </>
  );
}

export function SshSection({ ssh, onChange, rememberIn }: { ssh: SshFields; onChange(patch: Partial<SshFields>): void; rememberIn?: string | null }) {
  return (
    <fieldset className="field ssh-section" aria-label="SSH tunnel">
      <legend>SSH tunnel</legend>
      <label className="check">
        <input type="checkbox" checked={ssh.enabled} onChange={(e) => onChange({ enabled: e.target.checked })} />
        Connect through an SSH host (bastion)
      </label>
      {ssh.enabled ? (
        <>
          <div className="field-row">
            <label className="field grow">
              <span>SSH host</span>
              <input value={ssh.host} placeholder="bastion.example.com" spellCheck={false} onChange={(e) => onChange({ host: e.target.value })} />
            </label>
            <label className="field w-port">
              <span>SSH port</span>
              <input value={ssh.port} inputMode="numeric" placeholder="22" onChange={(e) => onChange({ port: e.target.value.replace(/\D/g, '') })} />
            </label>
            <label className="field grow">
              <span>SSH user</span>
              <input value={ssh.user} spellCheck={false} autoComplete="off" onChange={(e) => onChange({ user: e.target.value })} />
            </label>
          </div>
          <div className="segmented segmented-sm" role="radiogroup" aria-label="SSH login">
            {AUTH.map(([auth, label]) => (
              <label key={auth} className={ssh.auth === auth ? 'on' : ''}>
                <input type="radio" name="sshAuth" checked={ssh.auth === auth} onChange={() => onChange({ auth })} />
                {label}
              </label>
            ))}
          </div>
          {ssh.auth === 'key' ? (
            <>
              <label className="field">
                <span>Private key file</span>
                <input value={ssh.privateKey} placeholder="~/.ssh/id_ed25519" spellCheck={false} onChange={(e) => onChange({ privateKey: e.target.value })} />
              </label>
              <Secret ssh={ssh} onChange={onChange} what="Passphrase" envField="passphraseEnv" envPlaceholder="none (unencrypted key)" rememberIn={rememberIn} />
            </>
          ) : ssh.auth === 'password' ? (
            <Secret ssh={ssh} onChange={onChange} what="Password" envField="passwordEnv" envPlaceholder="BASTION_PASSWORD" />
          ) : null}
          <label className="field">
            <span>known_hosts file</span>
            <input value={ssh.knownHosts} placeholder="~/.ssh/known_hosts" spellCheck={false} onChange={(e) => onChange({ knownHosts: e.target.value })} />
          </label>
          <small className="hint">
            The database host and port above are as the SSH host sees them (often 127.0.0.1). The host key is checked against known_hosts; Test shows an unknown one and asks.
          </small>
        </>
      ) : null}
    </fieldset>
  );
}
