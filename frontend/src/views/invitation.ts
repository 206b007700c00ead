import { h } from 'preact';
import { api, ApiError } from '../api';
import { navigate } from '../navigation';
import type { ViewProps } from '../router';
import { currentUser, setUser } from '../session';
import { announce } from '../status';
import { PageHeading } from '../ui/common';
import { checkNewPassword, Form, NewPasswordFields, useForm, type FormValues } from '../ui/forms';
import { useUnmountSignal } from '../ui/hooks';

export function InvitationView({ params }: ViewProps) {
  const form = useForm();
  const signal = useUnmountSignal();
  const token = params.get('token');
  const user = currentUser.value;
  const heading = h(PageHeading, { id: 'invitation-title' }, 'Accept your invitation');
  if (!token) {
    return h(
      'section',
      { class: 'panel narrow' },
      heading,
      h('p', { role: 'alert' }, 'This invitation link is incomplete. Open the link from your invitation email again, or ask the secretariat for a new invitation.'),
    );
  }

  const submit = async (values: FormValues) => {
    if (!checkNewPassword(form, values)) return;
    try {
      const result = await api.acceptInvitation(token, values.raw('password'), signal);
      setUser(result.user);
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
  };

  return h(
    'section',
    { class: 'panel narrow' },
    heading,
    user
      ? h('p', { class: 'notice' }, `You are currently signed in as ${user.display_name}. Accepting this invitation will sign you in as the invited person instead.`)
      : null,
    h('p', null, 'Choose a password to finish setting up your Plenum account.'),
    h(
      Form,
      { form, labelledBy: 'invitation-title', submitLabel: 'Set password and sign in', onSubmit: submit },
      h(NewPasswordFields, { form, hint: 'At least 12 characters. A few unrelated words make a good password.' }),
    ),
    h('p', { class: 'form-footer' }, 'Already have a password? ', h('a', { href: '/login' }, 'Sign in')),
  );
}
