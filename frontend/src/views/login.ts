import { api } from '../api';
import { app, homeFor, navigate, safeNext } from '../app';
import { announce, field, FormController, h } from '../dom';
import type { View } from '../router';

export const loginView: View = {
  title: 'Sign in',
  access: 'guest',
  render(main, { params }) {
    const form = new FormController({ 'aria-labelledby': 'login-title' })
      .add(
        field({ label: 'Email', name: 'email', type: 'email', autocomplete: 'username', required: true }),
        field({ label: 'Password', name: 'password', type: 'password', autocomplete: 'current-password', required: true }),
      )
      .submit('Sign in');

    form.onSubmit(async () => {
      const email = form.value('email');
      const password = form.rawValue('password');
      if (!email) form.fieldError('email', 'Enter your email address.');
      if (!password) form.fieldError('password', 'Enter your password.');
      if (!email || !password) {
        form.focusFirstError();
        return;
      }
      const result = await api.login(email, password);
      app.setUser(result.user);
      announce(`Signed in as ${result.user.display_name}.`);
      navigate(safeNext(params.get('next')) ?? homeFor(result.user), { replace: true });
    });

    main.append(
      h(
        'section',
        { class: 'panel narrow' },
        h('h1', { id: 'login-title' }, 'Sign in to Plenum'),
        form.form,
        h('p', { class: 'form-footer' }, h('a', { href: '/reset-password' }, 'Forgot your password?')),
      ),
    );
  },
};
