import { h } from 'preact';
import { useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { navigate } from '../navigation';
import type { ViewProps } from '../router';
import { setUser } from '../session';
import { announce } from '../status';
import { PageHeading } from '../ui/common';
import { checkNewPassword, Field, Form, NewPasswordFields, useForm, type FormValues } from '../ui/forms';
import { useUnmountSignal } from '../ui/hooks';

const SENT_MESSAGE =
  'If an account exists for that address, we have sent a link to reset the password. Check your inbox; the link is valid for a limited time.';

function RequestLink() {
  const form = useForm();
  const signal = useUnmountSignal();
  const [sent, setSent] = useState(false);

  const submit = async (values: FormValues) => {
    const email = values.get('email');
    if (!email) {
      form.fieldError('email', 'Enter your email address.');
      form.focusFirstError();
      return;
    }
    try {
      await api.requestPasswordReset(email, signal);
    } catch (err) {
      // Field validation and rate limiting are worth showing; anything else is
      // answered the same way so as not to reveal whether the account exists.
      if (err instanceof ApiError && (err.status === 429 || err.status === 0 || err.fieldErrors.length > 0)) throw err;
    }
    setSent(true);
    announce(SENT_MESSAGE);
  };

  return [
    h(PageHeading, { key: 'h', id: 'reset-title' }, 'Reset your password'),
    h('p', { key: 'intro' }, 'Enter the email address of your Plenum account. We will send you a link to choose a new password.'),
    sent
      ? h('div', { key: 'done', class: 'panel-success', role: 'status' }, SENT_MESSAGE)
      : h(
          Form,
          { key: 'form', form, labelledBy: 'reset-title', submitLabel: 'Send reset link', onSubmit: submit },
          h(Field, { form, label: 'Email', name: 'email', type: 'email', autocomplete: 'username', required: true }),
        ),
    h('p', { key: 'back', class: 'form-footer' }, h('a', { href: '/login' }, 'Back to sign in')),
  ];
}

function ChoosePassword({ token }: { token: string }) {
  const form = useForm();
  const signal = useUnmountSignal();

  const submit = async (values: FormValues) => {
    if (!checkNewPassword(form, values)) return;
    try {
      const result = await api.confirmPasswordReset(token, values.raw('password'), signal);
      setUser(result.user);
      announce('Your password has been changed. You are signed in.');
      navigate('/account', { replace: true });
    } catch (err) {
      if (err instanceof ApiError && err.status === 410) {
        form.formError(`${err.problem.detail || 'This link has already been used or has expired.'} Request a new link below.`);
        form.focusFirstError();
        return;
      }
      throw err;
    }
  };

  return [
    h(PageHeading, { key: 'h', id: 'reset-title' }, 'Choose a new password'),
    h(
      Form,
      { key: 'form', form, labelledBy: 'reset-title', submitLabel: 'Set new password', onSubmit: submit },
      h(NewPasswordFields, { form, hint: 'At least 12 characters.' }),
    ),
    h('p', { key: 'again', class: 'form-footer' }, h('a', { href: '/reset-password' }, 'Request a new link')),
  ];
}

export function ResetPasswordView({ params }: ViewProps) {
  const token = params.get('token');
  return h('section', { class: 'panel narrow' }, token ? h(ChoosePassword, { token }) : h(RequestLink, null));
}
