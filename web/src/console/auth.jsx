import { useState } from 'preact/hooks';
import { register, signIn } from './api.js';
import { Field, Problem, useAction } from './ui.jsx';

export function SignIn() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { error, busy, run } = useAction();
  const submit = (e) => {
    e.preventDefault();
    run(async () => {
      await signIn(email.trim(), password);
      if (!location.hash.startsWith('#/orgs')) location.hash = '#/orgs';
    });
  };
  return (
    <form onSubmit={submit} class="stack" aria-labelledby="signin-title">
      <h2 id="signin-title">Sign in</h2>
      <Field label="Email" id="signin-email">
        <input id="signin-email" type="email" autocomplete="username" required value={email}
          onInput={(e) => setEmail(e.currentTarget.value)} />
      </Field>
      <Field label="Password" id="signin-password">
        <input id="signin-password" type="password" autocomplete="current-password" required value={password}
          onInput={(e) => setPassword(e.currentTarget.value)} />
      </Field>
      <Problem error={error} />
      <button type="submit" disabled={busy}>Sign in</button>
      <p class="muted">No account? <a href="#/register">Register</a></p>
    </form>
  );
}

export function Register() {
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { error, busy, run } = useAction();
  const submit = (e) => {
    e.preventDefault();
    run(async () => {
      await register(name.trim(), email.trim(), password);
      location.hash = '#/orgs';
    });
  };
  return (
    <form onSubmit={submit} class="stack" aria-labelledby="register-title">
      <h2 id="register-title">Create an account</h2>
      <Field label="Name" id="register-name">
        <input id="register-name" autocomplete="name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </Field>
      <Field label="Email" id="register-email">
        <input id="register-email" type="email" autocomplete="username" required value={email}
          onInput={(e) => setEmail(e.currentTarget.value)} />
      </Field>
      <Field label="Password" id="register-password" hint="At least 8 characters.">
        <input id="register-password" type="password" autocomplete="new-password" required value={password}
          onInput={(e) => setPassword(e.currentTarget.value)} />
      </Field>
      <Problem error={error} />
      <button type="submit" disabled={busy}>Register</button>
      <p class="muted">Have an account? <a href="#/">Sign in</a></p>
    </form>
  );
}
