import { h } from 'preact';
import { api } from '../api';
import { navigate, safeNext } from '../navigation';
import type { ViewProps } from '../router';
import { homeFor, setUser } from '../session';
import { announce } from '../status';
import { PageHeading } from '../ui/common';
import { Field, Form, useForm, type FormValues } from '../ui/forms';
import { useUnmountSignal } from '../ui/hooks';

export function LoginView({ params }: ViewProps) {
  const form = useForm();
  const signal = useUnmountSignal();
  const next = params.get('next');

  const submit = async (values: FormValues) => {
    const email = values.get('email');
    const password = values.raw('password');
    if (!email) form.fieldError('email', 'Enter your email address.');
    if (!password) form.fieldError('password', 'Enter your password.');
    if (!email || !password) {
      form.focusFirstError();
      return;
    }
    const result = await api.login(email, password, signal);
    setUser(result.user);
    announce(`Signed in as ${result.user.display_name}.`);
    navigate(safeNext(next) ?? homeFor(result.user), { replace: true });
  };

  return h(
    'section',
    { class: 'panel narrow' },
    h(PageHeading, { id: 'login-title' }, 'Sign in to Plenum'),
    h(
      Form,
      { form, labelledBy: 'login-title', submitLabel: 'Sign in', onSubmit: submit },
      h(Field, { form, label: 'Email', name: 'email', type: 'email', autocomplete: 'username', required: true }),
      h(Field, { form, label: 'Password', name: 'password', type: 'password', autocomplete: 'current-password', required: true }),
    ),
    h('p', { class: 'form-footer' }, h('a', { href: '/reset-password' }, 'Forgot your password?')),
  );
}
