import { api, ApiError } from '../api';
import { app, navigate } from '../app';
import { announce, checkNewPassword, field, FormController, h, newPasswordFields } from '../dom';
import type { View } from '../router';

const SENT_MESSAGE =
  'If an account exists for that address, we have sent a link to reset the password. Check your inbox; the link is valid for a limited time.';

function requestForm(section: HTMLElement): void {
  const form = new FormController({ 'aria-labelledby': 'reset-title' })
    .add(field({ label: 'Email', name: 'email', type: 'email', autocomplete: 'username', required: true }))
    .submit('Send reset link');
  const done = h('div', { class: 'panel-success', role: 'status', hidden: true });

  form.onSubmit(async () => {
    const email = form.value('email');
    if (!email) {
      form.fieldError('email', 'Enter your email address.');
      form.focusFirstError();
      return;
    }
    try {
      await api.requestPasswordReset(email);
    } catch (err) {
      // Field validation and rate limiting are worth showing; anything else is
      // answered the same way so as not to reveal whether the account exists.
      if (err instanceof ApiError && (err.status === 429 || err.status === 0 || err.fieldErrors.length > 0)) throw err;
    }
    done.textContent = SENT_MESSAGE;
    done.hidden = false;
    form.form.hidden = true;
    announce(SENT_MESSAGE);
  });

  section.append(
    h('h1', { id: 'reset-title' }, 'Reset your password'),
    h('p', null, 'Enter the email address of your Plenum account. We will send you a link to choose a new password.'),
    form.form,
    done,
    h('p', { class: 'form-footer' }, h('a', { href: '/login' }, 'Back to sign in')),
  );
}

function confirmForm(section: HTMLElement, token: string): void {
  const form = new FormController({ 'aria-labelledby': 'reset-title' })
    .add(...newPasswordFields('At least 12 characters.'))
    .submit('Set new password');

  form.onSubmit(async () => {
    if (!checkNewPassword(form, 'password', 'password_confirmation')) return;
    try {
      const result = await api.confirmPasswordReset(token, form.rawValue('password'));
      app.setUser(result.user);
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
  });

  section.append(
    h('h1', { id: 'reset-title' }, 'Choose a new password'),
    form.form,
    h('p', { class: 'form-footer' }, h('a', { href: '/reset-password' }, 'Request a new link')),
  );
}

export const resetPasswordView: View = {
  title: 'Reset your password',
  access: 'public',
  render(main, { params }) {
    const section = h('section', { class: 'panel narrow' });
    main.append(section);
    const token = params.get('token');
    if (token) confirmForm(section, token);
    else requestForm(section);
  },
};
