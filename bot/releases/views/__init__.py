"""Block Kit for release announcements (pure builders): the announcement itself, per language
(message), the compose modal and a draft's previews (compose), the approver's DM and the owner's
notices (approval), and `/release status`, the list and the posting report (status). `ids` holds the
Block Kit ids; `_common` what several of them share."""
