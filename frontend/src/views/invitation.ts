import { api, ApiError } from '../api';
import { app, navigate } from '../app';
import { announce, checkNewPassword, FormController, h, newPasswordFields } from '../dom';
import type { View } from '../router';

export const invitationView: View = {
  title: 'Accept your invitation',
  access: 'public',
  render(main, { params }) {
    const token = params.get('token');
    const section = h('section', { class: 'panel narrow' }, h('h1', { id: 'invitation-title' }, 'Accept your invitation'));
    main.append(section);
    if (!token) {
      section.append(
        h('p', { role: 'alert' }, 'This invitation link is incomplete. Open the link from your invitation email again, or ask the secretariat for a new invitation.'),
      );
      return;
    }
    if (app.user) {
      section.append(
        h('p', { class: 'notice' }, `You are currently signed in as ${app.user.display_name}. Accepting this invitation will sign you in as the invited person instead.`),
      );
    }
    const form = new FormController({ 'aria-labelledby': 'invitation-title' })
      .add(...newPasswordFields('At least 12 characters. A few unrelated words make a good password.'))
      .submit('Set password and sign in');

    form.onSubmit(async () => {
      if (!checkNewPassword(form, 'password', 'password_confirmation')) return;
      try {
        const result = await api.acceptInvitation(token, form.rawValue('password'));
        app.setUser(result.user);
        announce(`Welcome, ${result.user.display_name}. Your account is ready.`);
        navigate('/account', { replace: true });
      } catch (err) {
        if (err instanceof ApiError && err.status === 410) {
          form.formError(
            `${err.problem.detail || 'This invitation has already been used or has expired.'} If you have already set your password, sign in; otherwise ask the secretariat for a new invitation.`,
          );
          form.focusFirstError();
          return;
        }
        throw err;
      }
    });

    section.append(
      h('p', null, 'Choose a password to finish setting up your Plenum account.'),
      form.form,
      h('p', { class: 'form-footer' }, 'Already have a password? ', h('a', { href: '/login' }, 'Sign in')),
    );
  },
};
