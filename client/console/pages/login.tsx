/** Sign in with email and password; the server's reason is shown when it refuses (wrong password, locked out). */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { SessionInfo } from '../../../server/realtime/agent/protocol.js';
import { type ApiClient, errorMessage } from '../api.js';

export interface LoginPageProps {
  api: ApiClient;
  /** Why the person is here again ("your session ended"), shown above the form. */
  notice: string | null;
  onSignedIn: (session: SessionInfo) => void;
}

export function LoginPage({ api, notice, onSignedIn }: LoginPageProps) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const emailRef = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    emailRef.current?.focus();
  }, []);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const session = await api.login({ email: email.trim(), password });
      if (!session.user) throw new Error('Signed in, but the session did not stick. Are cookies blocked?');
      onSignedIn(session);
    } catch (failure) {
      setError(errorMessage(failure));
      setBusy(false);
      // The email stays; the password is selected so typing replaces it.
      requestAnimationFrame(() => {
        passwordRef.current?.focus();
        passwordRef.current?.select();
      });
    }
  };

  return (
    <main class="login" id="main">
      <form
        class="login-card"
        onSubmit={(event) => void submit(event)}
        aria-labelledby="login-title"
        noValidate
      >
        <p class="brand" aria-hidden="true">
          Parley
        </p>
        <h1 id="login-title" tabIndex={-1} ref={headingRef}>
          Sign in to the Parley console
        </h1>
        {notice && !error ? <p class="notice">{notice}</p> : null}
        <div class="field">
          <label for="login-email">Email</label>
          <input
            id="login-email"
            ref={emailRef}
            type="email"
            name="email"
            autocomplete="username"
            required
            value={email}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? 'login-error' : undefined}
            onInput={(event) => setEmail(event.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="login-password">Password</label>
          <input
            id="login-password"
            ref={passwordRef}
            type="password"
            name="password"
            autocomplete="current-password"
            required
            value={password}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? 'login-error' : undefined}
            onInput={(event) => setPassword(event.currentTarget.value)}
          />
        </div>
        <p id="login-error" class="error form-error" role="alert">
          {error}
        </p>
        <button type="submit" class="primary wide" disabled={busy || !email.trim() || !password}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
