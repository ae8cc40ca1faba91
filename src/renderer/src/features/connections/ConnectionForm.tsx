import { useState } from 'react';
import type { ConnectionDto, ConnectionTestDto } from '../../../../shared/api';
import type { Engine } from '../../../../shared/connectionUrl';
import { api, messageOf } from '../../api';
import { useApp } from '../../app/store';
import { Dialog } from '../../components/Dialog';
import { SshSection } from './SshSection';
import { TestResult, TrustHostKey } from './TestResult';
import { ENGINE_LABEL, useConnections } from './store';
import { type ConnectionFields, DEFAULT_PORT, emptyFields, fieldsFrom, fieldsFromUrl, sshOf, sshTyped, sshRemember, suggestName, urlOf } from './urlForm';

const SSL_MODES: Record<Engine, { value: string; label: string }[]> = {
  postgres: [
    { value: 'disable', label: 'disable: never' },
    { value: 'prefer', label: 'prefer: if the server offers it' },
    { value: 'require', label: 'require: encrypted, any certificate' },
    { value: 'verify-ca', label: 'verify-ca: certificate signed by the CA' },
    { value: 'verify-full', label: 'verify-full: CA and host name' },
  ],
  mysql: [
    { value: '', label: 'default (server decides)' },
    { value: 'disable', label: 'disable: never' },
    { value: 'require', label: 'require: encrypted, any certificate' },
    { value: 'verify-ca', label: 'verify-ca: certificate signed by the CA' },
    { value: 'verify-full', label: 'verify-full: CA and host name' },
  ],
  sqlite: [],
};

export function ConnectionForm({ editing, onClose }: { editing?: ConnectionDto; onClose(): void }) {
  const info = useApp((s) => s.info);
  const save = useConnections((s) => s.save);
  const [f, setF] = useState<ConnectionFields>(() => (editing ? fieldsFrom(editing) : emptyFields()));
  const [pasted, setPasted] = useState('');
  const [pasteError, setPasteError] = useState('');
  const [test, setTest] = useState<{ pending: boolean; result?: ConnectionTestDto }>({ pending: false });
  const [error, setError] = useState('');
  const [saving, setSaving] = useState(false);
  const set = (patch: Partial<ConnectionFields>) => setF((prev) => ({ ...prev, ...patch }));
  const hadPassword = editing && (editing.passwordSource === 'session' || editing.passwordSource === 'saved');

  function setEngine(engine: Engine) {
    const d = emptyFields(engine);
    set({ engine, port: d.port, user: f.user || d.user, sslmode: d.sslmode });
  }

  function applyUrl() {
    if (!pasted.trim()) return;
    try {
      setF(fieldsFromUrl(pasted, f));
      setPasteError('');
      setPasted('');
    } catch (err) {
      setPasteError(messageOf(err));
    }
  }

  const passwordInput = () => {
    if (f.engine === 'sqlite') return {};
    if (f.passwordMode === 'env') return { passwordEnv: f.passwordEnv.trim() };
    if (f.passwordMode === 'none') return { clearPassword: true };
    return f.password ? { password: f.password } : {};
  };

  async function runTest() {
    setTest({ pending: true });
    const input = passwordInput();
    const result = await api
      .invoke('connections/test', {
        url: urlOf(f),
        password: 'password' in input ? input.password : undefined,
        passwordEnv: 'passwordEnv' in input ? input.passwordEnv : undefined,
        // The saved connection's session secrets (database password, SSH password or passphrase) unless new ones are typed.
        id: editing && ((f.passwordMode === 'typed' && !f.password) || (f.ssh.secretKnown && !f.ssh.secret)) ? editing.id : undefined,
        ssh: sshOf(f),
        ...sshTyped(f),
      })
      .catch((err: Error): ConnectionTestDto => ({ ok: false, error: err.message, latencyMs: 0 }));
    setTest({ pending: false, result });
  }

  async function submit() {
    setSaving(true);
    setError('');
    try {
      await save({ id: editing?.id, name: f.name.trim() || suggestName(f), url: urlOf(f), ...passwordInput(), ssh: sshOf(f), ...sshTyped(f), ...sshRemember(f) });
      onClose();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setSaving(false);
    }
  }

  const server = f.engine !== 'sqlite';
  return (
    <Dialog
      open
      title={editing ? `Edit ${editing.name}` : 'Add a connection'}
      onClose={onClose}
      footer={
        <>
          <div className="grow">
            <TestResult pending={test.pending} result={test.result} />
          </div>
          <button type="button" className="btn" onClick={runTest} disabled={test.pending}>
            Test
          </button>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form="connection-form" className="btn btn-primary" disabled={saving}>
            {editing ? 'Save changes' : 'Save connection'}
          </button>
        </>
      }
    >
      <form
        id="connection-form"
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <fieldset className="segmented" aria-label="Engine">
          {(['postgres', 'mysql', 'sqlite'] as Engine[]).map((engine) => (
            <label key={engine} className={f.engine === engine ? 'on' : ''}>
              <input type="radio" name="engine" value={engine} checked={f.engine === engine} onChange={() => setEngine(engine)} />
              {ENGINE_LABEL[engine]}
            </label>
          ))}
        </fieldset>

        <label className="field">
          <span>Name</span>
          <input value={f.name} placeholder={suggestName(f) || 'e.g. shop production'} onChange={(e) => set({ name: e.target.value })} autoFocus />
        </label>

        {server ? (
          <>
            <div className="field-row">
              <label className="field grow">
                <span>Host</span>
                <input value={f.host} onChange={(e) => set({ host: e.target.value })} spellCheck={false} />
              </label>
              <label className="field w-port">
                <span>Port</span>
                <input value={f.port} inputMode="numeric" placeholder={DEFAULT_PORT[f.engine]} onChange={(e) => set({ port: e.target.value.replace(/\D/g, '') })} />
              </label>
            </div>
            <div className="field-row">
              <label className="field grow">
                <span>Database</span>
                <input value={f.database} onChange={(e) => set({ database: e.target.value })} spellCheck={false} />
              </label>
              <label className="field grow">
                <span>User</span>
                <input value={f.user} onChange={(e) => set({ user: e.target.value })} spellCheck={false} autoComplete="off" />
              </label>
            </div>

            <fieldset className="field">
              <legend>Password</legend>
              <div className="segmented segmented-sm">
                {(
                  [
                    ['typed', info?.canSavePasswords ? 'Type it (saved encrypted)' : 'Type it (this session only)'],
                    ['env', 'From an environment variable'],
                    ['none', 'None / trust'],
                  ] as const
                ).map(([mode, label]) => (
                  <label key={mode} className={f.passwordMode === mode ? 'on' : ''}>
                    <input type="radio" name="passwordMode" checked={f.passwordMode === mode} onChange={() => set({ passwordMode: mode })} />
                    {label}
                  </label>
                ))}
              </div>
              {f.passwordMode === 'typed' ? (
                <input
                  type="password"
                  aria-label="Password"
                  value={f.password}
                  placeholder={hadPassword ? '•••• unchanged' : ''}
                  autoComplete="new-password"
                  onChange={(e) => set({ password: e.target.value })}
                />
              ) : f.passwordMode === 'env' ? (
                <input aria-label="Environment variable" value={f.passwordEnv} placeholder="PGPASSWORD" spellCheck={false} onChange={(e) => set({ passwordEnv: e.target.value })} />
              ) : null}
              <small className="hint">
                {f.passwordMode === 'typed'
                  ? info?.canSavePasswords
                    ? 'Encrypted with your system keychain; never shown again.'
                    : 'Kept in memory while dbferry ui runs, never written to disk. Use an environment variable to keep it across restarts.'
                  : f.passwordMode === 'env'
                    ? 'Read from the environment of the dbferry process when it connects.'
                    : 'For trust, peer or ~/.pgpass authentication.'}
              </small>
            </fieldset>

            <div className="field-row">
              <label className="field grow">
                <span>SSL</span>
                <select value={f.sslmode} onChange={(e) => set({ sslmode: e.target.value })}>
                  {SSL_MODES[f.engine].map((m) => (
                    <option key={m.value} value={m.value}>
                      {m.label}
                    </option>
                  ))}
                </select>
              </label>
              {f.sslmode.startsWith('verify') ? (
                <label className="field grow">
                  <span>CA certificate file</span>
                  <input value={f.sslrootcert} placeholder="/etc/ssl/certs/db-ca.pem" spellCheck={false} onChange={(e) => set({ sslrootcert: e.target.value })} />
                </label>
              ) : null}
            </div>

            <SshSection ssh={f.ssh} rememberIn={info?.sshPassphraseStore ?? null} onChange={(patch) => set({ ssh: { ...f.ssh, ...patch } })} />
            {test.result?.ssh?.hostKey?.status === 'unknown' ? <TrustHostKey hostKey={test.result.ssh.hostKey} onTrusted={() => void runTest()} /> : null}
          </>
        ) : (
          <>
            <label className="field">
              <span>Database file</span>
              <input value={f.path} placeholder="/home/me/data/shop.db" spellCheck={false} onChange={(e) => set({ path: e.target.value })} />
              <small className="hint">An absolute path on the machine dbferry runs on. A target file is created if it does not exist.</small>
            </label>
            <label className="check">
              <input type="checkbox" checked={f.readonly} onChange={(e) => set({ readonly: e.target.checked })} />
              Open read-only (source only)
            </label>
          </>
        )}

        <details className="paste">
          <summary>Or paste a connection URL</summary>
          <div className="field-row">
            <input
              className="grow mono"
              aria-label="Connection URL"
              value={pasted}
              placeholder="postgres://user@host:5432/db?sslmode=require"
              spellCheck={false}
              onChange={(e) => setPasted(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter') {
                  e.preventDefault();
                  applyUrl();
                }
              }}
            />
            <button type="button" className="btn" onClick={applyUrl}>
              Fill the form
            </button>
          </div>
          {pasteError ? <p className="error-text">{pasteError}</p> : null}
        </details>

        <p className="url-preview mono" aria-label="URL">
          {urlOf(f)}
        </p>
        {error ? (
          <p className="error-text" role="alert">
            {error}
          </p>
        ) : null}
      </form>
    </Dialog>
  );
}
