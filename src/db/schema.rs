//! The tables, as diesel sees them. Kept by hand in step with `migrations/` (both backends).

diesel::table! {
    organisations (id) {
        id -> BigInt,
        kind -> Text,
        name -> Text,
        short_code -> Text,
        status -> Text,
        admitted_on -> Nullable<Date>,
        countries -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        organisation_id -> BigInt,
        email -> Text,
        email_normalized -> Text,
        display_name -> Text,
        password_hash -> Nullable<Text>,
        is_admin -> Bool,
        disabled -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        user_agent -> Nullable<Text>,
        client_ip -> Nullable<Text>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        key_hash -> Text,
        failed_at -> Timestamp,
    }
}

diesel::table! {
    account_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        purpose -> Text,
        token_hash -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> BigInt,
        recipient -> Text,
        template -> Text,
        subject -> Text,
        text_body -> Text,
        html_body -> Text,
        created_at -> Timestamp,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        attachments -> Text,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Timestamp,
        actor_user_id -> Nullable<BigInt>,
        actor_organisation_id -> Nullable<BigInt>,
        action -> Text,
        resource_type -> Text,
        resource_id -> Text,
        changes -> Text,
        request_id -> Nullable<Text>,
    }
}

diesel::table! {
    drafts (id) {
        id -> BigInt,
        title -> Text,
        state -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_seq -> BigInt,
        body_id -> Nullable<BigInt>,
        stage -> Text,
        round -> Integer,
        objections_until -> Nullable<Timestamp>,
        deadline -> Nullable<Timestamp>,
        reminded_at -> Nullable<Timestamp>,
        meeting_id -> Nullable<BigInt>,
        agenda_item_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    draft_versions (id) {
        id -> BigInt,
        draft_id -> BigInt,
        n -> Integer,
        label -> Text,
        stage -> Text,
        text -> Text,
        data -> Binary,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    draft_objections (id) {
        id -> BigInt,
        draft_id -> BigInt,
        round -> Integer,
        procedure -> Text,
        kind -> Text,
        user_id -> BigInt,
        organisation_id -> BigInt,
        reason -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    draft_authors (id) {
        id -> BigInt,
        draft_id -> BigInt,
        client_id -> BigInt,
        clock_start -> BigInt,
        clock_end -> BigInt,
        user_id -> BigInt,
    }
}

diesel::table! {
    decision_relations (draft_id, target_id) {
        draft_id -> BigInt,
        target_id -> BigInt,
        kind -> Text,
    }
}

diesel::table! {
    decisions (id) {
        id -> BigInt,
        draft_id -> BigInt,
        body_id -> Nullable<BigInt>,
        year -> Integer,
        seq -> Integer,
        number -> Text,
        title -> Text,
        text -> Text,
        procedure -> Text,
        adopted_at -> Timestamp,
        adopted_by -> Nullable<BigInt>,
        version_n -> Integer,
    }
}

diesel::table! {
    draft_updates (id) {
        id -> BigInt,
        draft_id -> BigInt,
        seq -> BigInt,
        user_id -> BigInt,
        created_at -> Timestamp,
        data -> Binary,
        updates -> Integer,
    }
}

diesel::table! {
    draft_snapshots (id) {
        id -> BigInt,
        draft_id -> BigInt,
        seq -> BigInt,
        created_at -> Timestamp,
        data -> Binary,
    }
}

diesel::table! {
    bodies (id) {
        id -> BigInt,
        name -> Text,
        short_name -> Text,
        kind -> Text,
        mandate -> Text,
        parent_id -> Nullable<BigInt>,
        created_on -> Date,
        ends_on -> Nullable<Date>,
        observers_may_join -> Bool,
        observers_may_chair -> Bool,
        time_zone -> Text,
        rotation_rule -> Text,
        rotation_order -> Text,
        term_months -> Integer,
        lead_days -> Integer,
        rotation_source_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    body_members (body_id, organisation_id) {
        body_id -> BigInt,
        organisation_id -> BigInt,
        since -> Date,
        until -> Nullable<Date>,
        provisional -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    chair_terms (id) {
        id -> BigInt,
        body_id -> BigInt,
        office -> Text,
        organisation_id -> BigInt,
        person_user_id -> Nullable<BigInt>,
        starts_on -> Date,
        ends_on -> Date,
        origin -> Text,
        note -> Text,
        cancelled -> Bool,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    acting_chairs (id) {
        id -> BigInt,
        body_id -> BigInt,
        term_id -> BigInt,
        since -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        reason -> Text,
        set_by -> BigInt,
        ended_by -> Nullable<BigInt>,
    }
}

diesel::table! {
    chair_notices (id) {
        id -> BigInt,
        body_id -> BigInt,
        kind -> Text,
        handover_on -> Date,
        sent_at -> Timestamp,
    }
}

diesel::table! {
    meetings (id) {
        id -> BigInt,
        body_id -> BigInt,
        kind -> Text,
        title -> Text,
        venue -> Text,
        online_url -> Nullable<Text>,
        time_zone -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        state -> Text,
        agenda_state -> Text,
        agenda_adopted_at -> Nullable<Timestamp>,
        event_seq -> BigInt,
        ical_sequence -> Integer,
        created_by -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    meeting_invitations (meeting_id, organisation_id) {
        meeting_id -> BigInt,
        organisation_id -> BigInt,
        role -> Text,
    }
}

diesel::table! {
    meeting_attendance (meeting_id, user_id) {
        meeting_id -> BigInt,
        user_id -> BigInt,
        registered_by -> BigInt,
        registered_at -> Timestamp,
    }
}

diesel::table! {
    agenda_items (id) {
        id -> BigInt,
        meeting_id -> BigInt,
        parent_id -> Nullable<BigInt>,
        position -> Integer,
        title -> Text,
        description -> Text,
        purpose -> Text,
        presenter -> Text,
        duration_minutes -> Nullable<Integer>,
        closed_session -> Bool,
        state -> Text,
        current_since -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    agenda_documents (id) {
        id -> BigInt,
        item_id -> BigInt,
        filename -> Text,
        content_type -> Text,
        size -> BigInt,
        sha256 -> Text,
        data -> Binary,
        uploaded_by -> BigInt,
        uploaded_at -> Timestamp,
    }
}

diesel::table! {
    agenda_item_drafts (item_id, draft_id) {
        item_id -> BigInt,
        draft_id -> BigInt,
    }
}

diesel::table! {
    agenda_amendments (id) {
        id -> BigInt,
        meeting_id -> BigInt,
        at -> Timestamp,
        user_id -> Nullable<BigInt>,
        action -> Text,
        item_id -> Nullable<BigInt>,
        number -> Nullable<Text>,
        title -> Nullable<Text>,
        detail -> Text,
        closed_session -> Bool,
    }
}

diesel::table! {
    meeting_events (id) {
        id -> BigInt,
        meeting_id -> BigInt,
        seq -> BigInt,
        at -> Timestamp,
        kind -> Text,
        full_data -> Text,
        public_data -> Nullable<Text>,
    }
}

diesel::table! {
    calendar_feeds (user_id) {
        user_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    vocabularies (id) {
        id -> BigInt,
        key -> Text,
        name -> Text,
        description -> Text,
        body_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    vocabulary_statuses (vocabulary_id, key) {
        vocabulary_id -> BigInt,
        key -> Text,
        label -> Text,
        position -> Integer,
        weight -> Integer,
        #[sql_name = "final"]
        is_final -> Bool,
    }
}

diesel::table! {
    uploads (id) {
        id -> BigInt,
        filename -> Text,
        content_type -> Text,
        size -> BigInt,
        sha256 -> Text,
        data -> Binary,
        uploaded_by -> BigInt,
        organisation_id -> BigInt,
        uploaded_at -> Timestamp,
    }
}

diesel::table! {
    review_visits (id) {
        id -> BigInt,
        participant_id -> BigInt,
        body_id -> BigInt,
        origin -> Text,
        state -> Text,
        starts_on -> Nullable<Date>,
        ends_on -> Nullable<Date>,
        report_title -> Text,
        report_upload_id -> Nullable<BigInt>,
        report_adopted_on -> Nullable<Date>,
        vocabulary_id -> Nullable<BigInt>,
        notes -> Text,
        created_by -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    review_visit_members (visit_id, organisation_id) {
        visit_id -> BigInt,
        organisation_id -> BigInt,
        role -> Text,
    }
}

diesel::table! {
    recommendations (id) {
        id -> BigInt,
        code -> Text,
        title -> Text,
        text -> Text,
        body_id -> BigInt,
        issued_on -> Date,
        due_on -> Nullable<Date>,
        priority -> Text,
        vocabulary_id -> BigInt,
        parent_id -> Nullable<BigInt>,
        source_kind -> Text,
        source_meeting_id -> Nullable<BigInt>,
        source_decision_id -> Nullable<BigInt>,
        source_visit_id -> Nullable<BigInt>,
        source_body_id -> Nullable<BigInt>,
        source_title -> Text,
        addressed_to -> Text,
        restricted -> Bool,
        created_by -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    recommendation_themes (recommendation_id, theme) {
        recommendation_id -> BigInt,
        theme -> Text,
    }
}

diesel::table! {
    recommendation_addressees (id) {
        id -> BigInt,
        recommendation_id -> BigInt,
        organisation_id -> Nullable<BigInt>,
        body_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    implementation_entries (id) {
        id -> BigInt,
        addressee_id -> BigInt,
        recommendation_id -> BigInt,
        status -> Text,
        note -> Text,
        corrects_id -> Nullable<BigInt>,
        recorded_by -> BigInt,
        recorded_for -> BigInt,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    implementation_evidence (id) {
        id -> BigInt,
        entry_id -> BigInt,
        label -> Text,
        url -> Nullable<Text>,
        upload_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    recommendation_digests (meeting_id, organisation_id) {
        meeting_id -> BigInt,
        organisation_id -> BigInt,
        sent_at -> Timestamp,
    }
}

diesel::joinable!(users -> organisations (organisation_id));
diesel::joinable!(calendar_feeds -> users (user_id));
diesel::joinable!(draft_objections -> users (user_id));
diesel::joinable!(draft_objections -> drafts (draft_id));
diesel::joinable!(draft_authors -> users (user_id));
diesel::joinable!(meeting_invitations -> organisations (organisation_id));
diesel::joinable!(meeting_attendance -> users (user_id));
diesel::joinable!(agenda_item_drafts -> drafts (draft_id));
diesel::joinable!(agenda_amendments -> users (user_id));
diesel::joinable!(body_members -> bodies (body_id));
diesel::joinable!(body_members -> organisations (organisation_id));
diesel::joinable!(chair_terms -> organisations (organisation_id));
diesel::joinable!(acting_chairs -> chair_terms (term_id));
diesel::joinable!(draft_updates -> drafts (draft_id));
diesel::joinable!(draft_snapshots -> drafts (draft_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(account_tokens -> users (user_id));
diesel::joinable!(vocabulary_statuses -> vocabularies (vocabulary_id));
diesel::joinable!(review_visit_members -> review_visits (visit_id));
diesel::joinable!(review_visit_members -> organisations (organisation_id));
diesel::joinable!(recommendations -> vocabularies (vocabulary_id));
diesel::joinable!(recommendation_themes -> recommendations (recommendation_id));
diesel::joinable!(recommendation_addressees -> recommendations (recommendation_id));
diesel::joinable!(implementation_entries -> recommendation_addressees (addressee_id));
diesel::joinable!(implementation_entries -> users (recorded_by));
diesel::joinable!(implementation_evidence -> implementation_entries (entry_id));
diesel::joinable!(implementation_evidence -> uploads (upload_id));

diesel::allow_tables_to_appear_in_same_query!(
    organisations,
    users,
    sessions,
    account_tokens,
    mail_outbox,
    audit_log,
    bodies,
    body_members,
    chair_terms,
    acting_chairs,
    chair_notices,
    meetings,
    meeting_invitations,
    meeting_attendance,
    agenda_items,
    agenda_documents,
    agenda_item_drafts,
    agenda_amendments,
    meeting_events,
    drafts,
    calendar_feeds,
    draft_versions,
    draft_objections,
    decisions,
    draft_authors,
    decision_relations,
    vocabularies,
    vocabulary_statuses,
    uploads,
    review_visits,
    review_visit_members,
    recommendations,
    recommendation_themes,
    recommendation_addressees,
    implementation_entries,
    implementation_evidence,
    recommendation_digests,
);
