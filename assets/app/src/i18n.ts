// All user-visible text of the web app lives in this file.
//
// English is the reference catalog; every other catalog must have exactly the
// same keys (enforced by the type below and by i18n.test.ts). A message is
// either a plain string or a set of plural forms selected with
// Intl.PluralRules by the numeric parameter `n`. Parameters are written
// `{name}` and are replaced verbatim.

export type PluralForms = Partial<Record<Intl.LDMLPluralRule, string>> & { other: string };
export type Message = string | PluralForms;
export type Params = Record<string, string | number>;

const en = {
  'app.name': 'Outpost',
  'app.loading': 'Loading…',
  'app.skipToContent': 'Skip to main content',

  'common.save': 'Save',
  'common.saving': 'Saving…',
  'common.retry': 'Try again',
  'common.copy': 'Copy',
  'common.copied': 'Copied to the clipboard',
  'common.copyFailed': 'Could not copy. Select the text and copy it manually.',

  'field.username': 'User name',
  'field.username.hint': 'You use it to sign in.',
  'field.displayName': 'Display name',
  'field.displayName.hint': 'How other people see you.',
  'field.password': 'Password',
  'field.newPassword': 'New password',
  'field.repeatPassword': 'Repeat password',
  'field.currentPassword': 'Current password',

  'validation.passwordsDiffer': 'The passwords do not match.',

  'error.network': 'Cannot reach the Outpost server. Check your connection and try again.',
  'error.unexpected': 'Something went wrong (error {status}). Please try again.',
  'error.generic': 'Something went wrong. Please try again.',
  'error.tooManyAttempts': {
    one: 'Too many attempts, try again in {n} second.',
    other: 'Too many attempts, try again in {n} seconds.',
  },
  'error.tooManyAttemptsLater': 'Too many attempts, try again later.',

  'login.title': 'Sign in to Outpost',
  'login.submit': 'Sign in',
  'login.submitting': 'Signing in…',
  'login.wrongCredentials': 'Wrong user name or password.',
  'login.noAccount': 'No account yet? Ask an administrator for an invitation link.',

  'setup.title': 'Set up Outpost',
  'setup.intro': 'Create the first administrator account for this server.',
  'setup.submit': 'Create administrator',
  'setup.submitting': 'Creating…',
  'setup.missingToken':
    'This setup link is incomplete. Open the full link shown by the Outpost server.',
  'setup.invalidToken': 'This setup link is not valid any more. The server may already be set up.',

  'invite.title': 'Join Outpost',
  'invite.intro': 'You have been invited. Choose how you sign in and how others see you.',
  'invite.expires': 'This invitation is valid until {date}.',
  'invite.checking': 'Checking the invitation…',
  'invite.invalid': 'This invitation link is invalid, has already been used or has expired.',
  'invite.invalidHint': 'Ask an administrator for a new link.',
  'invite.submit': 'Create account',
  'invite.submitting': 'Creating account…',
  'invite.goToLogin': 'Go to sign in',

  'shell.navigation': 'Main navigation',
  'shell.openMenu': 'Open menu',
  'shell.closeMenu': 'Close menu',
  'shell.channels': 'Channels',
  'shell.channelsSoon': 'Channels arrive soon.',
  'shell.home': 'Home',
  'shell.profile': 'Profile',
  'shell.admin': 'Admin',
  'shell.signOut': 'Sign out',
  'shell.signingOut': 'Signing out…',
  'shell.signedInAs': 'Signed in as {name}',
  'shell.loadFailed': 'Could not load your account.',

  'home.title': 'Welcome, {name}',
  'home.placeholder': 'Channels arrive soon. This is where your conversations will live.',
  'home.placeholderHint': 'Meanwhile you can update your profile and manage your sessions.',

  'notFound.title': 'Page not found',
  'notFound.text': 'There is nothing at this address.',
  'notFound.back': 'Back to home',

  'profile.title': 'Profile',
  'profile.account': 'Account',
  'profile.usernameIs': 'User name: {username}',
  'profile.password.title': 'Change password',
  'profile.password.submit': 'Change password',
  'profile.password.saved': 'Password changed.',
  'profile.password.wrongCurrent': 'The current password is wrong.',

  'sessions.title': 'Sessions',
  'sessions.intro': 'Devices and browsers where you are signed in.',
  'sessions.empty': 'No sessions.',
  'sessions.current': 'This device',
  'sessions.unknownAgent': 'Unknown browser',
  'sessions.address': 'Address: {address}',
  'sessions.created': 'Signed in {date}',
  'sessions.lastSeen': 'Last active {date}',
  'sessions.revoke': 'Sign out',
  'sessions.revokeLabel': 'Sign out the session of {agent}',
  'sessions.revoked': 'Session signed out.',

  'admin.title': 'Administration',
  'admin.users.title': 'Users',
  'admin.users.empty': 'No users.',
  'admin.users.username': 'User name',
  'admin.users.displayName': 'Display name',
  'admin.users.role': 'Role',
  'admin.users.status': 'Status',
  'admin.users.created': 'Created',
  'admin.users.actions': 'Actions',
  'admin.users.admin': 'Administrator',
  'admin.users.member': 'Member',
  'admin.users.active': 'Active',
  'admin.users.disabled': 'Disabled',
  'admin.users.you': 'you',
  'admin.users.disable': 'Disable',
  'admin.users.disableLabel': 'Disable {username}',
  'admin.users.confirmDisable':
    'Disable {username}? They will be signed out and can no longer sign in.',
  'admin.users.disabledDone': '{username} is disabled.',
  'admin.users.enable': 'Enable',
  'admin.users.enableLabel': 'Enable {username}',
  'admin.users.enabledDone': '{username} can sign in again.',
  'admin.invite.title': 'Invite people',
  'admin.invite.intro': 'Create a link that lets one person create an account.',
  'admin.invite.validFor': 'Link valid for',
  'admin.invite.hours': {
    one: '{n} hour',
    other: '{n} hours',
  },
  'admin.invite.days': {
    one: '{n} day',
    other: '{n} days',
  },
  'admin.invite.create': 'Create invitation link',
  'admin.invite.creating': 'Creating…',
  'admin.invite.link': 'Invitation link',
  'admin.invite.expires': 'Valid until {date}.',

  'common.cancel': 'Cancel',

  'home.empty': 'You are not in any channel yet.',
  'home.emptyHint': 'Browse the public channels, create one, or write to someone directly.',

  'presence.online': 'Online',
  'presence.away': 'Away',
  'presence.offline': 'Offline',

  'kind.public': 'Public channel',
  'kind.private': 'Private channel',
  'kind.dm': 'Direct message',
  'kind.group': 'Group message',

  'conn.connected': 'Connected',
  'conn.connecting': 'Connecting…',
  'conn.reconnecting': 'Reconnecting…',
  'conn.offline': 'Offline',
  'conn.retry': 'Reconnect now',
  'conn.queued': {
    one: '{n} message waiting to be sent',
    other: '{n} messages waiting to be sent',
  },

  'sidebar.jump': 'Jump to…',
  'sidebar.jumpKey': 'Ctrl K',
  'sidebar.mentions': 'Mentions',
  'sidebar.browse': 'Browse channels',
  'sidebar.create': 'Create a channel',
  'sidebar.directs': 'Direct messages',
  'sidebar.newDirect': 'New direct message',
  'sidebar.noChannels': 'No channels yet.',
  'sidebar.privateChannel': '{name} (private)',
  'sidebar.mentionsLabel': {
    one: '{n} new message for you',
    other: '{n} new messages for you',
  },
  'sidebar.unreadLabel': 'unread messages',
  'sidebar.enableNotifications': 'Enable desktop notifications',

  'search.label': 'Search messages',
  'search.placeholder': 'Search messages',
  'search.title': 'Search results',
  'search.unknownFilters': 'Ignored filters that match nothing: {filters}',
  'search.emptyQuery': 'Type the words to look for (filters alone are not enough).',
  'search.hint': 'Filters: in:#channel, in:@person, from:@person, after:YYYY-MM-DD, before:YYYY-MM-DD, on:YYYY-MM-DD.',
  'search.count': {
    one: '{n} result for “{q}”',
    other: '{n} results for “{q}”',
  },

  'channel.notFound': 'Channel not found',
  'channel.notFoundText': 'It does not exist, or you are not a member of it.',
  'channel.archived': 'Archived',
  'channel.archivedNote': 'This channel is archived: you can read it but not write to it.',
  'channel.intro': 'This is the very beginning of #{name}.',
  'channel.introDirect': 'This is the beginning of your conversation with {name}.',
  'channel.newMessages': 'New messages',
  'channel.jumpLatest': 'Jump to the latest messages',
  'channel.loadingOlder': 'Loading older messages…',
  'channel.loadFailed': 'Could not load the messages. They will load when the connection is back.',
  'channel.messagesLabel': 'Messages in {name}',
  'channel.pins': 'Pinned',
  'channel.details': 'Details',
  'channel.members': 'Members',
  'details.topic': 'Topic',
  'details.saved': 'Saved.',
  'details.members': {
    one: '{n} member',
    other: '{n} members',
  },
  'details.add': 'Add people',
  'details.added': '{name} was added.',
  'shell.keyboardHint': 'Alt+↑ / Alt+↓ switch conversations',
  'channel.leave': 'Leave',
  'channel.confirmLeave': 'Leave {name}?',

  'day.today': 'Today',
  'day.yesterday': 'Yesterday',

  'message.label': '{name}, {time}',
  'message.system': 'Outpost',
  'message.unknownUser': 'User {id}',
  'message.edited': '(edited)',
  'message.deleted': 'This message was deleted.',
  'message.pinned': 'Pinned',
  'message.reactions': 'Reactions',
  'message.reactionLabel': {
    one: '{emoji}: {n} reaction by {who}. Toggle yours',
    other: '{emoji}: {n} reactions by {who}. Toggle yours',
  },
  'message.replies': {
    one: '{n} reply',
    other: '{n} replies',
  },
  'message.actions': 'Message actions',
  'message.reactWith': 'React with {emoji}',
  'message.addReaction': 'Add a reaction',
  'message.reply': 'Reply in thread',
  'message.pin': 'Pin to the channel',
  'message.unpin': 'Unpin',
  'message.edit': 'Edit',
  'message.editLabel': 'Edit the message',
  'message.editHint': 'Enter to save, Escape to cancel',
  'message.delete': 'Delete',
  'message.confirmDelete': 'Delete this message? This cannot be undone.',
  'message.queued': 'Waiting for the connection…',
  'message.sending': 'Sending…',
  'message.failed': 'Not sent',
  'message.discard': 'Discard',

  'composer.placeholder': 'Message #{name}',
  'composer.placeholderDirect': 'Message {name}',
  'composer.hint': 'Enter to send, Shift+Enter for a new line, ↑ to edit your last message',
  'composer.emoji': 'Insert an emoji',
  'composer.send': 'Send',
  'composer.mentionList': 'People to mention',
  'composer.attach': 'Attach files',
  'composer.waitForUploads': 'Sending waits until the files are uploaded',

  'upload.tray': 'Files to send',
  'upload.queued': 'Waiting…',
  'upload.preparing': 'Preparing…',
  'upload.progress': '{sent} of {total}',
  'upload.retrying': 'Connection lost, retrying…',
  'upload.finishing': 'Finishing…',
  'upload.done': 'Ready to send',
  'upload.cancel': 'Cancel uploading {name}',
  'upload.remove': 'Remove {name}',
  'upload.retry': 'Try uploading {name} again',
  'upload.tooMany': {
    one: 'A message can carry at most {n} file. The others were not added.',
    other: 'A message can carry at most {n} files. The others were not added.',
  },
  'upload.drop': 'Drop files to send them here',

  'file.open': 'Open {name}',
  'file.download': 'Download',
  'file.downloadName': 'Download {name}',
  'file.video': 'Video: {name}',
  'file.audio': 'Audio: {name}',
  'file.generic': 'File',
  'file.meta': '{size} · {type}',
  'file.viewer': 'Image viewer',

  'typing.one': '{name} is typing…',
  'typing.two': '{a} and {b} are typing…',
  'typing.many': 'Several people are typing…',

  'emoji.title': 'Emoji',
  'emoji.search': 'Find an emoji',
  'emoji.none': 'No emoji found.',

  'panel.close': 'Close',
  'thread.title': 'Thread',
  'thread.reply': 'Reply…',
  'thread.loadFailed': 'Could not load the thread.',
  'pins.title': 'Pinned messages',
  'pins.empty': 'Nothing is pinned in this channel yet.',
  'mentions.title': 'Mentions',
  'mentions.empty': 'Nobody has mentioned you yet.',

  'create.title': 'Create a channel',
  'create.name': 'Name',
  'create.nameHint': 'Lower-case letters, digits and dashes, e.g. team-news.',
  'create.topic': 'Topic (optional)',
  'create.private': 'Private',
  'create.privateHint': 'Only invited people can see and join it.',
  'create.submit': 'Create',

  'browse.title': 'Browse channels',
  'browse.filter': 'Filter',
  'browse.empty': 'No public channels found.',
  'browse.members': {
    one: '{n} member',
    other: '{n} members',
  },
  'browse.join': 'Join',
  'browse.joinLabel': 'Join {name}',
  'browse.open': 'Open',
  'browse.openLabel': 'Open {name}',

  'direct.title': 'New direct message',
  'direct.find': 'Find people',
  'direct.picked': 'Selected people',
  'direct.remove': 'Remove {name}',
  'direct.start': 'Start conversation',
  'direct.startGroup': 'Start group conversation',

  'switcher.title': 'Jump to a conversation',
  'switcher.placeholder': 'Channel or person',
  'switcher.hint': '↑ ↓ to choose, Enter to open, Escape to close',

  'admin.channels.title': 'Channels',
  'admin.channels.intro':
    'Public channels and the private channels you belong to. Rename or archive them.',
  'admin.channels.empty': 'No channels.',
  'admin.channels.name': 'Name',
  'admin.channels.kind': 'Type',
  'admin.channels.members': 'Members',
  'admin.channels.status': 'Status',
  'admin.channels.active': 'Active',
  'admin.channels.archived': 'Archived',
  'admin.channels.rename': 'Rename',
  'admin.channels.renameLabel': 'Rename {name}',
  'admin.channels.renamePrompt': 'New name for #{name}:',
  'admin.channels.archive': 'Archive',
  'admin.channels.archiveLabel': 'Archive {name}',
  'admin.channels.unarchive': 'Unarchive',
  'admin.channels.unarchiveLabel': 'Unarchive {name}',
  'admin.channels.saved': 'Channel updated.',
  'admin.server.title': 'Server',
  'admin.server.site': 'Site name',
  'admin.server.version': 'Version',
  'admin.server.fingerprint': 'CA fingerprint (SHA-256)',
  'admin.server.setup': 'Setup',
  'admin.server.setupDone': 'Completed',
  'admin.server.setupPending': 'Waiting for the first administrator',
  'admin.server.connection': 'Real-time connection',
  'admin.server.uptime': 'Running for',
  'admin.server.users': 'Accounts',
  'admin.server.connections': 'Open connections',
  'admin.server.messages': 'Messages',
  'admin.server.messagesValue': '{total} in total, {rate} per second now',
  'admin.server.database': 'Database size',
  'admin.server.files': 'Stored files',
  'admin.server.backup': 'Last backup',
  'admin.server.backupNever': 'Never',
  'admin.server.ago': '{time} ago',
  'admin.server.certificate': 'Server certificate',
  'admin.server.expiresIn': 'Expires in {time}',
  'admin.server.expired': 'Expired',
  'admin.audit.title': 'Audit log',
  'admin.audit.intro': 'The latest 50 security-relevant events.',
  'admin.audit.csv': 'Download the log as CSV',
  'admin.audit.empty': 'Nothing recorded yet.',
  'admin.audit.at': 'Time',
  'admin.audit.actor': 'Who',
  'admin.audit.action': 'Event',
  'admin.audit.target': 'Target',
  'admin.audit.address': 'Address',

  'call.start': 'Call',
  'call.startLabel': 'Start a call in {name}',
  'call.join': 'Join call',
  'call.joinLabel': {
    one: 'Join the call ({n} person in it)',
    other: 'Join the call ({n} people in it)',
  },
  'call.inCall': 'In call',
  'call.incoming.title': 'Incoming call',
  'call.incoming.direct': 'Direct call',
  'call.incoming.group': 'Group call: {name}',
  'call.incoming.channel': 'Call in #{name}',
  'call.incoming.notification': '{name} is calling',
  'call.accept': 'Accept',
  'call.decline': 'Decline',
  'call.bar.label': 'Call',
  'call.phase.starting': 'Starting the call…',
  'call.phase.joining': 'Joining…',
  'call.phase.connecting': 'Connecting…',
  'call.ringing': 'Ringing…',
  'call.waiting': 'Waiting for others…',
  'call.duration': 'Call duration {time}',
  'call.mute': 'Mute',
  'call.unmute': 'Unmute',
  'call.cameraOn': 'Turn the camera on',
  'call.cameraOff': 'Turn the camera off',
  'call.screenOn': 'Share your screen',
  'call.screenOff': 'Stop sharing your screen',
  'call.settings': 'Call devices',
  'call.leave': 'Leave',
  'call.leaveLabel': 'Leave the call',
  'call.showVideo': 'Show video',
  'call.hideVideo': 'Hide video',
  'call.controls': 'Call controls',
  'call.participants': 'People in the call',
  'call.you': '{name} (you)',
  'call.mutedLabel': '{name}, muted',
  'call.speakingLabel': '{name}, speaking',
  'call.screenOf': '{name}’s screen',
  'call.videoLabel': 'Video',
  'call.mic.blocked':
    'Your microphone is blocked for this site, so the others cannot hear you. You can still listen. Allow the microphone in the browser’s site settings, then try again.',
  'call.mic.absent':
    'No microphone was found, so the others cannot hear you. You can still listen. Connect a microphone, then try again.',
  'call.mic.unavailable':
    'This page is not opened over a secure (https) connection, so the browser gives it no microphone. You can only listen.',
  'call.mic.error':
    'The microphone could not be started (another application may be using it), so the others cannot hear you. You can still listen.',
  'call.mic.retry': 'Try the microphone again',
  'call.error.notFound': 'This call has ended, or you cannot join it.',
  'call.error.full': 'This call is full.',
  'call.error.disabled': 'Calls are turned off on this server.',
  'call.error.offline': 'Not connected to the server. Try again when the connection is back.',
  'call.error.failed': 'The call could not be set up. Please try again.',
  'call.error.unreachable':
    'This device cannot reach the call server’s media port ({ports}). Ask your administrator to allow it.',
  'call.ports.both': 'UDP {udp} or TCP {tcp}',
  'call.ports.udp': 'UDP {udp}',
  'call.ports.tcp': 'TCP {tcp}',
  'call.ended.serverRestart': 'The server restarted, so the call ended. You can start it again.',
  'call.ended.connectionLost': 'The connection to the server was lost, so you left the call.',
  'call.ended.mediaLost': 'The call’s media connection was lost, so you left the call.',
  'call.ended.noAnswer': 'No answer.',
  'call.ended.declined': 'The call was declined.',
  'call.camera.blocked': 'The camera is blocked for this site. Allow it in the browser’s site settings.',
  'call.camera.absent': 'No camera was found.',
  'call.camera.failed': 'The camera could not be started.',
  'call.screen.failed': 'Screen sharing could not be started.',
  'call.confirmSwitch': 'Leave the current call?',
  'call.dismiss': 'Dismiss',
  'call.devices.title': 'Call devices',
  'call.devices.mic': 'Microphone',
  'call.devices.speaker': 'Speaker',
  'call.devices.camera': 'Camera',
  'call.devices.default': 'System default',
  'call.devices.unnamed': '{kind} {n}',
  'call.devices.noSpeakerChoice': 'This browser plays calls through the system’s default speaker.',
  'call.devices.hint': 'Device names appear once the browser may use the microphone or camera.',
  'call.record.call': 'Call · {duration}',
  'call.record.missed': 'Missed call',
  'call.record.startedBy': 'started by {name}',
  'call.record.from': 'from {name}',

  'error.wrongPassword': 'Wrong password.',
  'error.wrongCode': 'Wrong code. Try again.',
  'error.secondFactorRequired': 'Enter the code from your authenticator app.',
  'error.twoFactorRequired': 'Your administrator requires two-step sign-in, so you cannot turn it off.',
  'error.enrolmentRequired': 'Set up two-step sign-in first: your administrator requires it.',

  'field.appCode': 'Code from the app',
  'field.recoveryCode': 'Recovery code',
  'field.recoveryCode.hint': 'It looks like abcd-efgh.',

  'login.code.title': 'Two-step sign-in',
  'login.code.intro': 'Open the authenticator app on your phone and enter the 6-digit code it shows for Outpost.',
  'login.code.introRecovery':
    'Enter one of the recovery codes you saved when you set up two-step sign-in. Each code works once.',
  'login.code.useRecovery': 'Use a recovery code instead',
  'login.code.useApp': 'Use the code from the app instead',
  'login.code.back': 'Back to user name and password',

  'twoFactor.title': 'Two-step sign-in',
  'twoFactor.intro':
    'After your password, Outpost also asks for a code from an authenticator app on your phone, so a stolen password alone is not enough.',
  'twoFactor.status': 'Status:',
  'twoFactor.on': 'On',
  'twoFactor.off': 'Off',
  'twoFactor.setUp': 'Set up two-step sign-in',
  'twoFactor.turnOff': 'Turn off',
  'twoFactor.turnOff.intro':
    'Enter your password to turn two-step sign-in off. After that your password alone signs you in.',
  'twoFactor.turnOff.submit': 'Turn off two-step sign-in',
  'twoFactor.turnedOn': 'Two-step sign-in is on.',
  'twoFactor.turnedOff': 'Two-step sign-in is off.',
  'twoFactor.newCodes': 'New recovery codes',
  'twoFactor.newCodes.intro':
    'Enter your password to get ten new recovery codes. The old ones stop working.',
  'twoFactor.newCodes.submit': 'Create new codes',
  'twoFactor.notEnabled': 'Two-step sign-in is not on.',
  'twoFactor.alreadyEnabled': 'Two-step sign-in is already on.',
  'twoFactor.appCodeFormat': 'Enter the 6 digits the app shows.',
  'twoFactor.recoveryCodeFormat': 'A recovery code has 8 letters and digits, like abcd-efgh.',

  'twoFactor.setup.intro':
    'You need an authenticator app on your phone, such as Aegis, FreeOTP, Google Authenticator or Microsoft Authenticator. Enter your password to begin.',
  'twoFactor.setup.continue': 'Continue',
  'twoFactor.setup.scan': 'Scan this QR code with your authenticator app.',
  'twoFactor.setup.qrAlt': 'QR code for your authenticator app',
  'twoFactor.setup.manual': 'Cannot scan it? Enter this key in the app instead (time-based, 6 digits).',
  'twoFactor.setup.key': 'Key',
  'twoFactor.setup.openApp': 'Open in an authenticator app on this device',
  'twoFactor.setup.enterCode': 'Then enter the 6-digit code the app shows for Outpost.',
  'twoFactor.setup.confirm': 'Turn on',
  'twoFactor.setup.wrongCode': 'Wrong code. Check that the time on your phone is right and try again.',
  'twoFactor.setup.expired': 'The setup took too long and has expired. Start again.',
  'twoFactor.setup.restart': 'Start again',

  'twoFactor.codes.title': 'Save your recovery codes',
  'twoFactor.codes.intro':
    'If you lose your phone, each of these codes signs you in once instead of a code from the app. They are shown only now: keep them somewhere safe, such as a password manager or a printout.',
  'twoFactor.codes.list': 'Recovery codes',
  'twoFactor.codes.copyAll': 'Copy all',
  'twoFactor.codes.download': 'Download as .txt',
  'twoFactor.codes.saved': 'I have saved them',
  'twoFactor.codes.fileTitle': 'Outpost recovery codes for {username} on {host}',
  'twoFactor.codes.fileHint': 'Each code signs you in once instead of the code from your authenticator app.',

  'twoFactor.required.title': 'Set up two-step sign-in',
  'twoFactor.required.intro':
    'Your administrator requires two-step sign-in for your account. Set it up to continue.',

  'admin.users.twoFactor': '2-step',
  'admin.users.twoFactorTitle': 'Signs in with an authenticator app',
  'admin.users.resetTwoFactor': 'Reset two-step sign-in',
  'admin.users.resetTwoFactorLabel': 'Reset two-step sign-in of {username}',
  'admin.users.confirmResetTwoFactor':
    'Reset two-step sign-in of {username}? Their authenticator app and recovery codes stop working: they sign in with the password alone, or set it up again if it is required.',
  'admin.users.resetTwoFactorDone': 'Two-step sign-in of {username} was reset.',
  'admin.twoFactor.title': 'Two-step sign-in',
  'admin.twoFactor.require': 'Require two-step sign-in',
  'admin.twoFactor.off': 'Off',
  'admin.twoFactor.offHint': 'Everyone can turn it on for themselves in their profile.',
  'admin.twoFactor.admins': 'For administrators',
  'admin.twoFactor.adminsHint': 'Administrators who have not set it up must do so before anything else.',
  'admin.twoFactor.everyone': 'For everyone',
  'admin.twoFactor.everyoneHint': 'Everyone who has not set it up must do so before anything else.',
  'admin.twoFactor.saved': 'The setting is saved.',
  'admin.twoFactor.confirmSelf':
    'You have not set up two-step sign-in yourself: you will have to do it right after saving. Continue?',

  'badge.bot': 'bot',
  'badge.botTitle': 'A bot account: a program posts as it',
  'badge.webhook': 'webhook',
  'badge.webhookTitle': 'Posted by another system through an incoming webhook',
  'badge.nameWith': '{name} ({badge})',

  'integrations.example': 'Example with curl',
  'integrations.caNote':
    'curl checks this server with its CA certificate, which is at {path} on this server: save it as {file} where you run the command.',
  'integrations.caDownload': 'Download the CA certificate',
  'integrations.done': 'Done, hide it',
  'integrations.created': 'Created {date}',
  'integrations.lastUsed': 'Last used {date}',
  'integrations.neverUsed': 'Never used',

  'webhooks.title': 'Webhooks',
  'webhooks.intro':
    'Other systems on your network, such as monitoring or alarms, can post into {name} through a secret URL. Their messages show the webhook’s name with a “webhook” tag.',
  'webhooks.list': 'Webhooks of {name}',
  'webhooks.empty': 'No webhooks yet.',
  'webhooks.name': 'Webhook name',
  'webhooks.nameInvalid': 'A webhook’s name is 1 to 64 characters.',
  'webhooks.invalid': 'This name cannot be used: use 1 to 64 ordinary characters.',
  'webhooks.create': 'Create webhook',
  'webhooks.creating': 'Creating…',
  'webhooks.delete': 'Delete',
  'webhooks.deleteLabel': 'Delete webhook {name}',
  'webhooks.confirmDelete': 'Delete webhook {name}? Its URL stops working at once. What it posted stays.',
  'webhooks.deleted': 'Webhook {name} was deleted.',
  'webhooks.gone': 'This webhook does not exist any more.',
  'webhooks.forbidden': 'Only the channel’s owners and administrators can manage its webhooks.',
  'webhooks.secretTitle': 'Copy the webhook URL now',
  'webhooks.secretIntro':
    'It is shown only this once. Anyone who has it can post into {name}: keep it secret, and if it leaks, delete the webhook and create a new one.',
  'webhooks.url': 'Webhook URL',

  'webhooks.incoming': 'Incoming',
  'outgoing.title': 'Outgoing',
  'outgoing.intro':
    'When a message in {name} starts with a trigger word, Outpost sends it to a system on your network and posts that system’s answer back here under the webhook’s name. Only administrators see and manage these.',
  'outgoing.list': 'Outgoing webhooks of {name}',
  'outgoing.empty': 'No outgoing webhooks yet.',
  'outgoing.triggersLabel': 'Trigger words:',
  'outgoing.urlLabel': 'Calls:',
  'outgoing.showSecret': 'Show secret',
  'outgoing.hideSecret': 'Hide secret',
  'outgoing.showSecretLabel': 'Show the secret of outgoing webhook {name}',
  'outgoing.hideSecretLabel': 'Hide the secret of outgoing webhook {name}',
  'outgoing.secret': 'Secret',
  'outgoing.secretHint':
    'Sent as “token” in every call: the receiving system compares it with this secret to know the call came from Outpost. Keep it secret.',
  'outgoing.form': 'New outgoing webhook',
  'outgoing.name': 'Name',
  'outgoing.nameHint': 'Answers are posted under this name.',
  'outgoing.nameInvalid': 'A name is 1 to 64 characters.',
  'outgoing.triggers': 'Trigger words',
  'outgoing.triggersHint':
    'Separated by spaces: 1 to 10 words of up to 32 characters each. A message whose first word is one of them is sent.',
  'outgoing.triggersPlaceholder': '!status !uptime',
  'outgoing.triggersInvalid': 'Give 1 to 10 trigger words, separated by spaces, each up to 32 characters.',
  'outgoing.url': 'URL to call',
  'outgoing.urlPlaceholder': 'http://10.0.0.5:8080/outpost',
  'outgoing.urlHint':
    'Plain http:// to an IP address on your network, with a port and a path if needed: Outpost resolves no names and does not call https. Every call is recorded in the audit log.',
  'outgoing.urlInvalid':
    'Use http://IP-ADDRESS[:PORT]/PATH, for example http://10.0.0.5:8080/outpost: an IP address, not a name, and http, not https.',
  'outgoing.create': 'Create outgoing webhook',
  'outgoing.creating': 'Creating…',
  'outgoing.created': 'Outgoing webhook {name} was created. Give its secret to the receiving system.',
  'outgoing.delete': 'Delete',
  'outgoing.deleteLabel': 'Delete outgoing webhook {name}',
  'outgoing.confirmDelete': 'Delete outgoing webhook {name}? Outpost stops calling its URL at once. The answers it posted stay.',
  'outgoing.deleted': 'Outgoing webhook {name} was deleted.',
  'outgoing.gone': 'This outgoing webhook does not exist any more.',
  'outgoing.channelGone': 'This channel does not exist any more.',
  'outgoing.forbidden': 'Only administrators can manage outgoing webhooks.',
  'outgoing.invalid':
    'The server did not accept this webhook: check its name, the trigger words (1 to 10, without spaces, up to 32 characters each) and the URL (http:// to an IP address).',

  'bots.title': 'Bots',
  'bots.intro':
    'Bot accounts are for scripts and other programs. They have no password: they use API tokens, sent as “Authorization: Bearer …”. What a bot posts carries a “bot” tag.',
  'bots.username': 'Bot user name',
  'bots.displayName': 'Display name (optional)',
  'bots.usernameInvalid':
    'A user name is 1 to 32 characters: letters, digits, dot, dash or underscore, starting with a letter or digit.',
  'bots.create': 'Create bot',
  'bots.creating': 'Creating…',
  'bots.createdDone': 'Bot {username} was created. Give it a token so that a program can use it.',
  'bots.conflict': 'This user name is taken.',
  'bots.invalid':
    'Check the names: a user name is 1 to 32 letters, digits, dots, dashes or underscores, starting with a letter or digit; a display name is at most 64 ordinary characters.',
  'bots.empty': 'No bots yet.',
  'bots.list': 'Bot accounts',
  'bots.tokens': 'API tokens of {username}',
  'bots.noTokens': 'No tokens: no program can use this bot yet.',
  'bots.newToken': 'New token',
  'bots.newTokenLabel': 'New token for {username}',
  'bots.tokenName': 'Token name',
  'bots.tokenNameHint': 'Where it is used, for example “backup script on nas1”.',
  'bots.tokenNameInvalid': 'A token’s name is 1 to 64 characters.',
  'bots.scopes': 'What the token may do',
  'bots.scope.read': 'Read',
  'bots.scope.readHint': 'Read channels and messages: GET requests and the live WebSocket connection.',
  'bots.scope.write': 'Write',
  'bots.scope.writeHint': 'Also post messages, react, edit its own messages and join channels.',
  'bots.scope.admin': 'Administration',
  'bots.scope.adminHint':
    'Also administer the server, but only while the bot account is an administrator: promote it like any user (outpost user promote {username}).',
  'bots.scope.adminNotYet': 'This bot is not an administrator yet, so for now this gives it nothing more.',
  'bots.scopesNone': 'Choose at least one.',
  'bots.createToken': 'Create token',
  'bots.creatingToken': 'Creating…',
  'bots.tokenInvalid': 'Enter a token name of 1 to 64 ordinary characters and choose at least one permission.',
  'bots.gone': 'This bot does not exist any more.',
  'bots.tokenGone': 'This token does not exist any more.',
  'bots.secretTitle': 'Copy the token now',
  'bots.secretIntro':
    'It is shown only this once. Anyone who has it acts as {username} within its permissions: keep it secret, and if it leaks, revoke it and create a new one.',
  'bots.token': 'API token',
  'bots.revoke': 'Revoke',
  'bots.revokeLabel': 'Revoke token {name} of {username}',
  'bots.confirmRevoke': 'Revoke token {name} of {username}? Programs using it are refused at once.',
  'bots.revoked': 'Token {name} was revoked.',
  'bots.confirmDisable': 'Disable bot {username}? Its tokens stop working until you enable it again.',
  'bots.disabledDone': 'Bot {username} is disabled: its tokens are refused.',
  'bots.enabledDone': 'Bot {username} is enabled: its tokens work again.',

  'error.managedByDirectory': 'This comes from your organisation’s directory and cannot be changed here.',
  'error.badPhoto': 'Outpost cannot read this file as a picture. Use a JPEG, PNG, WebP or GIF image.',
  'error.payloadTooLarge': 'This is too large to send.',

  'field.jobTitle': 'Job title',
  'field.department': 'Department',
  'field.phone': 'Phone',
  'field.phone.hint': 'Digits, spaces and + - ( ) . # * /',
  'field.about': 'About',
  'field.about.hint': 'A few lines about you and your work, up to 500 characters.',
  'profile.saved': 'Profile saved.',
  'profile.managed': 'Comes from your organisation’s directory',
  'profile.jobTitle.tooLong': 'A job title is at most 100 characters.',
  'profile.department.tooLong': 'A department is at most 100 characters.',
  'profile.phone.invalid': 'A phone number is at most 40 characters: digits, spaces and + - ( ) . # * /.',
  'profile.about.tooLong': 'Write at most 500 characters here.',
  'profile.photo.title': 'Photo',
  'profile.photo.intro': 'Shown next to your name. Outpost cuts a square from the middle of the picture.',
  'profile.photo.none': 'No photo yet: people see your initials.',
  'profile.photo.upload': 'Upload photo',
  'profile.photo.uploading': 'Uploading…',
  'profile.photo.remove': 'Remove photo',
  'profile.photo.removing': 'Removing…',
  'profile.photo.confirmRemove': 'Remove your photo? People will see your initials instead.',
  'profile.photo.saved': 'Photo updated.',
  'profile.photo.removed': 'Photo removed.',
  'profile.photo.notImage': 'Choose a picture file (JPEG, PNG, WebP or GIF).',
  'profile.photo.tooLarge': 'This picture is larger than 10 MB. Choose a smaller one.',

  'card.message': 'Message',
  'card.deactivated': 'This account is deactivated.',
  'card.open': 'Show the profile of {name}',

  'admin.users.directory': 'directory',
  'admin.users.directoryTitle': 'An account from the organisation’s directory: signs in with the directory password',

  'error.accountDisabled': 'This account is deactivated. Ask an administrator to enable it again.',

  'shell.people': 'People',
  'sidebar.mutedLabel': 'muted',
  'channel.muted': 'Notifications muted',

  'people.title': 'People',
  'people.search': 'Search people',
  'people.searchHint': 'Name, user name, job title or department',
  'people.count': {
    one: '{n} person',
    other: '{n} people',
  },
  'people.none': 'Nobody matches “{query}”.',
  'people.empty': 'Nobody here yet.',
  'people.you': 'you',
  'people.deactivated': 'deactivated',

  'status.title': 'Set a status',
  'status.set': 'Set a status',
  'status.edit': 'Change status',
  'status.yours': 'Your status: {status}',
  'status.label': 'Status: {text}',
  'status.emoji': 'Emoji',
  'status.chooseEmoji': 'Choose an emoji',
  'status.noEmoji': 'No emoji',
  'status.text': 'What’s your status?',
  'status.textHint': 'Up to 100 characters.',
  'status.clearAfter': 'Clear after',
  'status.clear.30m': '30 minutes',
  'status.clear.1h': '1 hour',
  'status.clear.4h': '4 hours',
  'status.clear.today': 'Today',
  'status.clear.week': 'This week',
  'status.clear.never': 'Don’t clear',
  'status.presets': 'Suggestions',
  'status.preset.meeting': 'In a meeting',
  'status.preset.onTheWay': 'On the way',
  'status.preset.sick': 'Out sick',
  'status.preset.leave': 'On leave',
  'status.clearNow': 'Clear status',
  'status.saved': 'Status saved.',
  'status.cleared': 'Status cleared.',
  'status.none': 'No status set.',
  'status.tooLong': 'A status is at most 100 characters.',
  'status.badText': 'A status is one line of text.',
  'status.untilTime': 'until {time}',
  'status.untilDate': 'until {date}',
  'status.cardTitle': 'Status',
  'status.cardIntro': 'Let others know where you are or what you are doing. It shows next to your name.',

  'message.deactivated': 'deactivated',

  'prefs.title': 'Notifications',
  'prefs.intro': 'When Outpost notifies you. These settings follow you to every device.',
  'prefs.dnd': 'Do not disturb',
  'prefs.dndOff': 'Off: you get notifications.',
  'prefs.dndOn': 'On {until}: no notifications.',
  'prefs.dndQuiet': 'Quiet time now: no notifications.',
  'prefs.dndFor': 'Pause notifications',
  'prefs.dnd30m': '30 minutes',
  'prefs.dnd1h': '1 hour',
  'prefs.dnd2h': '2 hours',
  'prefs.dndTomorrow': 'Until tomorrow 08:00',
  'prefs.dndEnd': 'Turn off',
  'prefs.quiet': 'Quiet time every day',
  'prefs.quietEnable': 'Pause notifications every day',
  'prefs.quietFrom': 'From',
  'prefs.quietTo': 'To',
  'prefs.quietHint': 'In your time zone. It may pass midnight, such as 19:00 to 08:00.',
  'prefs.quietInvalid': 'Choose two different times.',
  'prefs.timeZone': 'Time zone',
  'prefs.timeZoneBrowser': 'This device’s ({zone})',
  'prefs.timeZoneHint': 'For the quiet time, and for statuses that clear today or this week.',
  'prefs.keywords': 'Keywords',
  'prefs.keywordsHint': 'Messages with these words notify you like a mention. Separate them with a comma or Enter.',
  'prefs.keywordsList': 'Your keywords',
  'prefs.keywordRemove': 'Remove {word}',
  'prefs.keywordsTooMany': 'At most 20 keywords.',
  'prefs.keywordTooLong': 'A keyword is at most 40 characters.',
  'prefs.receipts': 'Send read receipts',
  'prefs.receiptsHint': 'In direct conversations, others see when you have read their messages.',
  'prefs.language': 'Language',
  'prefs.languageBrowser': 'Browser default',
  'prefs.desktopDenied': 'This browser blocks notifications from Outpost. Allow them in its site settings.',
  'prefs.saved': 'Saved.',

  'lang.en': 'English',
  'lang.ru': 'Русский',

  'notify.title': 'Notifications',
  'notify.level': 'Notify me about',
  'notify.all': 'All messages',
  'notify.mentions': 'Mentions only',
  'notify.none': 'Nothing',
  'notify.muteFor': 'Mute for',
  'notify.mute1h': '1 hour',
  'notify.mute8h': '8 hours',
  'notify.mute24h': '24 hours',
  'notify.muteForever': 'Until I unmute',
  'notify.mutedUntil': 'Muted {until}.',
  'notify.mutedForever': 'Muted until you unmute it.',
  'notify.unmute': 'Unmute',
  'notify.mutedHint': 'A muted conversation is dimmed in the list and notifies you only of mentions.',

  'details.massMentions': 'Who can notify everyone (@channel, @here)',
  'details.massEveryone': 'Everyone',
  'details.massOwners': 'Only owners',

  'receipts.seen': 'Seen',
  'receipts.seenBy': {
    one: 'Seen by {n}',
    other: 'Seen by {n}',
  },
  'receipts.who': '{name} — {time}',
} satisfies Record<string, Message>;

export type MessageKey = keyof typeof en;
export type Catalog = Record<MessageKey, Message>;

const ru: Catalog = {
  'app.name': 'Outpost',
  'app.loading': 'Загрузка…',
  'app.skipToContent': 'Перейти к основному содержимому',

  'common.save': 'Сохранить',
  'common.saving': 'Сохранение…',
  'common.retry': 'Повторить',
  'common.copy': 'Копировать',
  'common.copied': 'Скопировано в буфер обмена',
  'common.copyFailed': 'Не удалось скопировать. Выделите текст и скопируйте его вручную.',

  'field.username': 'Имя пользователя',
  'field.username.hint': 'Нужно для входа.',
  'field.displayName': 'Отображаемое имя',
  'field.displayName.hint': 'Так вас видят другие.',
  'field.password': 'Пароль',
  'field.newPassword': 'Новый пароль',
  'field.repeatPassword': 'Повторите пароль',
  'field.currentPassword': 'Текущий пароль',

  'validation.passwordsDiffer': 'Пароли не совпадают.',

  'error.network':
    'Нет связи с сервером Outpost. Проверьте подключение и попробуйте ещё раз.',
  'error.unexpected': 'Что-то пошло не так (ошибка {status}). Попробуйте ещё раз.',
  'error.generic': 'Что-то пошло не так. Попробуйте ещё раз.',
  'error.tooManyAttempts': {
    one: 'Слишком много попыток, повторите через {n} секунду.',
    few: 'Слишком много попыток, повторите через {n} секунды.',
    many: 'Слишком много попыток, повторите через {n} секунд.',
    other: 'Слишком много попыток, повторите через {n} секунды.',
  },
  'error.tooManyAttemptsLater': 'Слишком много попыток, повторите позже.',

  'login.title': 'Вход в Outpost',
  'login.submit': 'Войти',
  'login.submitting': 'Вход…',
  'login.wrongCredentials': 'Неверное имя пользователя или пароль.',
  'login.noAccount': 'Ещё нет учётной записи? Попросите у администратора ссылку-приглашение.',

  'setup.title': 'Настройка Outpost',
  'setup.intro': 'Создайте первую учётную запись администратора этого сервера.',
  'setup.submit': 'Создать администратора',
  'setup.submitting': 'Создание…',
  'setup.missingToken':
    'Ссылка для настройки неполная. Откройте полную ссылку, которую показывает сервер Outpost.',
  'setup.invalidToken':
    'Ссылка для настройки больше не действует. Возможно, сервер уже настроен.',

  'invite.title': 'Присоединиться к Outpost',
  'invite.intro': 'Вас пригласили. Выберите имя для входа и имя, которое увидят другие.',
  'invite.expires': 'Приглашение действует до {date}.',
  'invite.checking': 'Проверка приглашения…',
  'invite.invalid': 'Ссылка-приглашение недействительна, уже использована или истекла.',
  'invite.invalidHint': 'Попросите у администратора новую ссылку.',
  'invite.submit': 'Создать учётную запись',
  'invite.submitting': 'Создание учётной записи…',
  'invite.goToLogin': 'Перейти ко входу',

  'shell.navigation': 'Основная навигация',
  'shell.openMenu': 'Открыть меню',
  'shell.closeMenu': 'Закрыть меню',
  'shell.channels': 'Каналы',
  'shell.channelsSoon': 'Каналы скоро появятся.',
  'shell.home': 'Главная',
  'shell.profile': 'Профиль',
  'shell.admin': 'Администрирование',
  'shell.signOut': 'Выйти',
  'shell.signingOut': 'Выход…',
  'shell.signedInAs': 'Вы вошли как {name}',
  'shell.loadFailed': 'Не удалось загрузить вашу учётную запись.',

  'home.title': 'Добро пожаловать, {name}',
  'home.placeholder': 'Каналы скоро появятся. Здесь будут ваши разговоры.',
  'home.placeholderHint': 'А пока вы можете изменить профиль и управлять сеансами.',

  'notFound.title': 'Страница не найдена',
  'notFound.text': 'По этому адресу ничего нет.',
  'notFound.back': 'На главную',

  'profile.title': 'Профиль',
  'profile.account': 'Учётная запись',
  'profile.usernameIs': 'Имя пользователя: {username}',
  'profile.password.title': 'Смена пароля',
  'profile.password.submit': 'Сменить пароль',
  'profile.password.saved': 'Пароль изменён.',
  'profile.password.wrongCurrent': 'Текущий пароль неверен.',

  'sessions.title': 'Сеансы',
  'sessions.intro': 'Устройства и браузеры, в которых выполнен вход.',
  'sessions.empty': 'Сеансов нет.',
  'sessions.current': 'Это устройство',
  'sessions.unknownAgent': 'Неизвестный браузер',
  'sessions.address': 'Адрес: {address}',
  'sessions.created': 'Вход выполнен {date}',
  'sessions.lastSeen': 'Последняя активность {date}',
  'sessions.revoke': 'Завершить',
  'sessions.revokeLabel': 'Завершить сеанс {agent}',
  'sessions.revoked': 'Сеанс завершён.',

  'admin.title': 'Администрирование',
  'admin.users.title': 'Пользователи',
  'admin.users.empty': 'Пользователей нет.',
  'admin.users.username': 'Имя пользователя',
  'admin.users.displayName': 'Отображаемое имя',
  'admin.users.role': 'Роль',
  'admin.users.status': 'Состояние',
  'admin.users.created': 'Создан',
  'admin.users.actions': 'Действия',
  'admin.users.admin': 'Администратор',
  'admin.users.member': 'Участник',
  'admin.users.active': 'Активен',
  'admin.users.disabled': 'Отключён',
  'admin.users.you': 'вы',
  'admin.users.disable': 'Отключить',
  'admin.users.disableLabel': 'Отключить {username}',
  'admin.users.confirmDisable':
    'Отключить {username}? Все его сеансы будут завершены, войти снова он не сможет.',
  'admin.users.disabledDone': 'Пользователь {username} отключён.',
  'admin.users.enable': 'Включить',
  'admin.users.enableLabel': 'Включить {username}',
  'admin.users.enabledDone': 'Пользователь {username} снова может входить.',
  'admin.invite.title': 'Пригласить людей',
  'admin.invite.intro': 'Создайте ссылку, по которой один человек сможет создать учётную запись.',
  'admin.invite.validFor': 'Срок действия ссылки',
  'admin.invite.hours': {
    one: '{n} час',
    few: '{n} часа',
    many: '{n} часов',
    other: '{n} часа',
  },
  'admin.invite.days': {
    one: '{n} день',
    few: '{n} дня',
    many: '{n} дней',
    other: '{n} дня',
  },
  'admin.invite.create': 'Создать ссылку-приглашение',
  'admin.invite.creating': 'Создание…',
  'admin.invite.link': 'Ссылка-приглашение',
  'admin.invite.expires': 'Действует до {date}.',

  'common.cancel': 'Отмена',

  'home.empty': 'Вы пока не состоите ни в одном канале.',
  'home.emptyHint': 'Посмотрите открытые каналы, создайте свой или напишите кому-нибудь лично.',

  'presence.online': 'В сети',
  'presence.away': 'Нет на месте',
  'presence.offline': 'Не в сети',

  'kind.public': 'Открытый канал',
  'kind.private': 'Закрытый канал',
  'kind.dm': 'Личная переписка',
  'kind.group': 'Групповая переписка',

  'conn.connected': 'Подключено',
  'conn.connecting': 'Подключение…',
  'conn.reconnecting': 'Переподключение…',
  'conn.offline': 'Нет связи',
  'conn.retry': 'Подключиться сейчас',
  'conn.queued': {
    one: '{n} сообщение ждёт отправки',
    few: '{n} сообщения ждут отправки',
    many: '{n} сообщений ждут отправки',
    other: '{n} сообщения ждут отправки',
  },

  'sidebar.jump': 'Перейти…',
  'sidebar.jumpKey': 'Ctrl K',
  'sidebar.mentions': 'Упоминания',
  'sidebar.browse': 'Все каналы',
  'sidebar.create': 'Создать канал',
  'sidebar.directs': 'Личные сообщения',
  'sidebar.newDirect': 'Новое личное сообщение',
  'sidebar.noChannels': 'Каналов пока нет.',
  'sidebar.privateChannel': '{name} (закрытый)',
  'sidebar.mentionsLabel': {
    one: '{n} новое сообщение для вас',
    few: '{n} новых сообщения для вас',
    many: '{n} новых сообщений для вас',
    other: '{n} новых сообщения для вас',
  },
  'sidebar.unreadLabel': 'есть непрочитанные',
  'sidebar.enableNotifications': 'Включить уведомления на рабочем столе',

  'search.label': 'Поиск сообщений',
  'search.placeholder': 'Поиск сообщений',
  'search.title': 'Результаты поиска',
  'search.unknownFilters': 'Пропущены фильтры, которым ничего не соответствует: {filters}',
  'search.emptyQuery': 'Введите слова для поиска (одних фильтров недостаточно).',
  'search.hint': 'Фильтры: in:#канал, in:@человек, from:@человек, after:ГГГГ-ММ-ДД, before:ГГГГ-ММ-ДД, on:ГГГГ-ММ-ДД.',
  'search.count': {
    one: '{n} результат по запросу «{q}»',
    few: '{n} результата по запросу «{q}»',
    many: '{n} результатов по запросу «{q}»',
    other: '{n} результата по запросу «{q}»',
  },

  'channel.notFound': 'Канал не найден',
  'channel.notFoundText': 'Его не существует, или вы не состоите в нём.',
  'channel.archived': 'В архиве',
  'channel.archivedNote': 'Канал в архиве: читать его можно, писать нельзя.',
  'channel.intro': 'Это самое начало канала #{name}.',
  'channel.introDirect': 'Это начало вашей переписки с {name}.',
  'channel.newMessages': 'Новые сообщения',
  'channel.jumpLatest': 'К последним сообщениям',
  'channel.loadingOlder': 'Загрузка предыдущих сообщений…',
  'channel.loadFailed': 'Не удалось загрузить сообщения. Они загрузятся, когда связь восстановится.',
  'channel.messagesLabel': 'Сообщения в {name}',
  'channel.pins': 'Закреплённые',
  'channel.details': 'О канале',
  'channel.members': 'Участники',
  'details.topic': 'Тема',
  'details.saved': 'Сохранено.',
  'details.members': {
    one: '{n} участник',
    few: '{n} участника',
    many: '{n} участников',
    other: '{n} участника',
  },
  'details.add': 'Добавить людей',
  'details.added': 'Добавлено: {name}.',
  'shell.keyboardHint': 'Alt+↑ / Alt+↓ — переключение разговоров',
  'channel.leave': 'Покинуть',
  'channel.confirmLeave': 'Покинуть {name}?',

  'day.today': 'Сегодня',
  'day.yesterday': 'Вчера',

  'message.label': '{name}, {time}',
  'message.system': 'Outpost',
  'message.unknownUser': 'Пользователь {id}',
  'message.edited': '(изменено)',
  'message.deleted': 'Сообщение удалено.',
  'message.pinned': 'Закреплено',
  'message.reactions': 'Реакции',
  'message.reactionLabel': {
    one: '{emoji}: {n} реакция от {who}. Поставить или убрать свою',
    few: '{emoji}: {n} реакции от {who}. Поставить или убрать свою',
    many: '{emoji}: {n} реакций от {who}. Поставить или убрать свою',
    other: '{emoji}: {n} реакции от {who}. Поставить или убрать свою',
  },
  'message.replies': {
    one: '{n} ответ',
    few: '{n} ответа',
    many: '{n} ответов',
    other: '{n} ответа',
  },
  'message.actions': 'Действия с сообщением',
  'message.reactWith': 'Реакция {emoji}',
  'message.addReaction': 'Добавить реакцию',
  'message.reply': 'Ответить в ветке',
  'message.pin': 'Закрепить в канале',
  'message.unpin': 'Открепить',
  'message.edit': 'Изменить',
  'message.editLabel': 'Изменение сообщения',
  'message.editHint': 'Enter — сохранить, Escape — отменить',
  'message.delete': 'Удалить',
  'message.confirmDelete': 'Удалить это сообщение? Отменить удаление нельзя.',
  'message.queued': 'Ждёт подключения…',
  'message.sending': 'Отправка…',
  'message.failed': 'Не отправлено',
  'message.discard': 'Отменить отправку',

  'composer.placeholder': 'Сообщение в #{name}',
  'composer.placeholderDirect': 'Сообщение для {name}',
  'composer.hint': 'Enter — отправить, Shift+Enter — новая строка, ↑ — изменить последнее сообщение',
  'composer.emoji': 'Вставить эмодзи',
  'composer.send': 'Отправить',
  'composer.mentionList': 'Кого упомянуть',
  'composer.attach': 'Прикрепить файлы',
  'composer.waitForUploads': 'Сообщение можно отправить, когда файлы загрузятся',

  'upload.tray': 'Файлы для отправки',
  'upload.queued': 'В очереди…',
  'upload.preparing': 'Подготовка…',
  'upload.progress': '{sent} из {total}',
  'upload.retrying': 'Связь прервалась, повторяем…',
  'upload.finishing': 'Завершение…',
  'upload.done': 'Готово к отправке',
  'upload.cancel': 'Отменить загрузку {name}',
  'upload.remove': 'Убрать {name}',
  'upload.retry': 'Загрузить {name} ещё раз',
  'upload.tooMany': {
    one: 'К сообщению можно прикрепить не больше {n} файла. Остальные не добавлены.',
    few: 'К сообщению можно прикрепить не больше {n} файлов. Остальные не добавлены.',
    many: 'К сообщению можно прикрепить не больше {n} файлов. Остальные не добавлены.',
    other: 'К сообщению можно прикрепить не больше {n} файла. Остальные не добавлены.',
  },
  'upload.drop': 'Отпустите файлы, чтобы отправить их сюда',

  'file.open': 'Открыть {name}',
  'file.download': 'Скачать',
  'file.downloadName': 'Скачать {name}',
  'file.video': 'Видео: {name}',
  'file.audio': 'Аудио: {name}',
  'file.generic': 'Файл',
  'file.meta': '{size} · {type}',
  'file.viewer': 'Просмотр изображения',

  'typing.one': '{name} печатает…',
  'typing.two': '{a} и {b} печатают…',
  'typing.many': 'Несколько человек печатают…',

  'emoji.title': 'Эмодзи',
  'emoji.search': 'Найти эмодзи',
  'emoji.none': 'Эмодзи не найдены.',

  'panel.close': 'Закрыть',
  'thread.title': 'Ветка',
  'thread.reply': 'Ответить…',
  'thread.loadFailed': 'Не удалось загрузить ветку.',
  'pins.title': 'Закреплённые сообщения',
  'pins.empty': 'В этом канале пока ничего не закреплено.',
  'mentions.title': 'Упоминания',
  'mentions.empty': 'Вас ещё никто не упоминал.',

  'create.title': 'Создание канала',
  'create.name': 'Название',
  'create.nameHint': 'Строчные латинские буквы, цифры и дефисы, например team-news.',
  'create.topic': 'Тема (необязательно)',
  'create.private': 'Закрытый',
  'create.privateHint': 'Видеть его и вступать в него могут только приглашённые.',
  'create.submit': 'Создать',

  'browse.title': 'Все каналы',
  'browse.filter': 'Фильтр',
  'browse.empty': 'Открытых каналов не найдено.',
  'browse.members': {
    one: '{n} участник',
    few: '{n} участника',
    many: '{n} участников',
    other: '{n} участника',
  },
  'browse.join': 'Вступить',
  'browse.joinLabel': 'Вступить в {name}',
  'browse.open': 'Открыть',
  'browse.openLabel': 'Открыть {name}',

  'direct.title': 'Новое личное сообщение',
  'direct.find': 'Найти людей',
  'direct.picked': 'Выбранные люди',
  'direct.remove': 'Убрать {name}',
  'direct.start': 'Начать переписку',
  'direct.startGroup': 'Начать групповую переписку',

  'switcher.title': 'Перейти к разговору',
  'switcher.placeholder': 'Канал или человек',
  'switcher.hint': '↑ ↓ — выбор, Enter — открыть, Escape — закрыть',

  'admin.channels.title': 'Каналы',
  'admin.channels.intro':
    'Открытые каналы и закрытые каналы, в которых вы состоите. Их можно переименовать или отправить в архив.',
  'admin.channels.empty': 'Каналов нет.',
  'admin.channels.name': 'Название',
  'admin.channels.kind': 'Тип',
  'admin.channels.members': 'Участники',
  'admin.channels.status': 'Состояние',
  'admin.channels.active': 'Активен',
  'admin.channels.archived': 'В архиве',
  'admin.channels.rename': 'Переименовать',
  'admin.channels.renameLabel': 'Переименовать {name}',
  'admin.channels.renamePrompt': 'Новое название для #{name}:',
  'admin.channels.archive': 'В архив',
  'admin.channels.archiveLabel': 'Отправить {name} в архив',
  'admin.channels.unarchive': 'Вернуть из архива',
  'admin.channels.unarchiveLabel': 'Вернуть {name} из архива',
  'admin.channels.saved': 'Канал изменён.',
  'admin.server.title': 'Сервер',
  'admin.server.site': 'Название',
  'admin.server.version': 'Версия',
  'admin.server.fingerprint': 'Отпечаток УЦ (SHA-256)',
  'admin.server.setup': 'Настройка',
  'admin.server.setupDone': 'Завершена',
  'admin.server.setupPending': 'Ожидает первого администратора',
  'admin.server.connection': 'Соединение реального времени',
  'admin.server.uptime': 'Работает',
  'admin.server.users': 'Учётные записи',
  'admin.server.connections': 'Открытые соединения',
  'admin.server.messages': 'Сообщения',
  'admin.server.messagesValue': 'всего {total}, сейчас {rate} в секунду',
  'admin.server.database': 'Размер базы данных',
  'admin.server.files': 'Хранимые файлы',
  'admin.server.backup': 'Последняя резервная копия',
  'admin.server.backupNever': 'Не создавалась',
  'admin.server.ago': '{time} назад',
  'admin.server.certificate': 'Сертификат сервера',
  'admin.server.expiresIn': 'Истекает через {time}',
  'admin.server.expired': 'Истёк',
  'admin.audit.title': 'Журнал аудита',
  'admin.audit.intro': 'Последние 50 событий, важных для безопасности.',
  'admin.audit.csv': 'Скачать журнал в CSV',
  'admin.audit.empty': 'Пока ничего не записано.',
  'admin.audit.at': 'Время',
  'admin.audit.actor': 'Кто',
  'admin.audit.action': 'Событие',
  'admin.audit.target': 'Объект',
  'admin.audit.address': 'Адрес',

  'call.start': 'Позвонить',
  'call.startLabel': 'Начать звонок в {name}',
  'call.join': 'Присоединиться',
  'call.joinLabel': {
    one: 'Присоединиться к звонку (в нём {n} человек)',
    few: 'Присоединиться к звонку (в нём {n} человека)',
    many: 'Присоединиться к звонку (в нём {n} человек)',
    other: 'Присоединиться к звонку (в нём {n} человека)',
  },
  'call.inCall': 'В звонке',
  'call.incoming.title': 'Входящий звонок',
  'call.incoming.direct': 'Личный звонок',
  'call.incoming.group': 'Групповой звонок: {name}',
  'call.incoming.channel': 'Звонок в #{name}',
  'call.incoming.notification': '{name} звонит вам',
  'call.accept': 'Ответить',
  'call.decline': 'Отклонить',
  'call.bar.label': 'Звонок',
  'call.phase.starting': 'Начинаем звонок…',
  'call.phase.joining': 'Подключение…',
  'call.phase.connecting': 'Соединение…',
  'call.ringing': 'Вызов…',
  'call.waiting': 'Ждём остальных…',
  'call.duration': 'Длительность звонка {time}',
  'call.mute': 'Выключить микрофон',
  'call.unmute': 'Включить микрофон',
  'call.cameraOn': 'Включить камеру',
  'call.cameraOff': 'Выключить камеру',
  'call.screenOn': 'Показать экран',
  'call.screenOff': 'Прекратить показ экрана',
  'call.settings': 'Устройства для звонков',
  'call.leave': 'Выйти',
  'call.leaveLabel': 'Выйти из звонка',
  'call.showVideo': 'Показать видео',
  'call.hideVideo': 'Скрыть видео',
  'call.controls': 'Управление звонком',
  'call.participants': 'Участники звонка',
  'call.you': '{name} (вы)',
  'call.mutedLabel': '{name}, микрофон выключен',
  'call.speakingLabel': '{name}, говорит',
  'call.screenOf': 'Экран: {name}',
  'call.videoLabel': 'Видео',
  'call.mic.blocked':
    'Микрофон для этого сайта заблокирован, поэтому вас не слышно. Слушать вы можете. Разрешите микрофон в настройках сайта в браузере и попробуйте снова.',
  'call.mic.absent':
    'Микрофон не найден, поэтому вас не слышно. Слушать вы можете. Подключите микрофон и попробуйте снова.',
  'call.mic.unavailable':
    'Страница открыта не по защищённому соединению (https), поэтому браузер не даёт ей микрофон. Вы можете только слушать.',
  'call.mic.error':
    'Не удалось включить микрофон (возможно, он занят другой программой), поэтому вас не слышно. Слушать вы можете.',
  'call.mic.retry': 'Попробовать микрофон снова',
  'call.error.notFound': 'Этот звонок уже закончился, или вы не можете к нему присоединиться.',
  'call.error.full': 'В звонке нет свободных мест.',
  'call.error.disabled': 'Звонки на этом сервере выключены.',
  'call.error.offline': 'Нет связи с сервером. Попробуйте, когда связь восстановится.',
  'call.error.failed': 'Не удалось установить звонок. Попробуйте ещё раз.',
  'call.error.unreachable':
    'Это устройство не может подключиться к медиапорту сервера звонков ({ports}). Попросите администратора открыть доступ к нему.',
  'call.ports.both': 'UDP {udp} или TCP {tcp}',
  'call.ports.udp': 'UDP {udp}',
  'call.ports.tcp': 'TCP {tcp}',
  'call.ended.serverRestart': 'Сервер перезапустился, и звонок завершился. Его можно начать снова.',
  'call.ended.connectionLost': 'Связь с сервером прервалась, и вы вышли из звонка.',
  'call.ended.mediaLost': 'Медиасоединение звонка прервалось, и вы вышли из звонка.',
  'call.ended.noAnswer': 'Никто не ответил.',
  'call.ended.declined': 'Звонок отклонён.',
  'call.camera.blocked': 'Камера для этого сайта заблокирована. Разрешите её в настройках сайта в браузере.',
  'call.camera.absent': 'Камера не найдена.',
  'call.camera.failed': 'Не удалось включить камеру.',
  'call.screen.failed': 'Не удалось начать показ экрана.',
  'call.confirmSwitch': 'Выйти из текущего звонка?',
  'call.dismiss': 'Закрыть',
  'call.devices.title': 'Устройства для звонков',
  'call.devices.mic': 'Микрофон',
  'call.devices.speaker': 'Динамик',
  'call.devices.camera': 'Камера',
  'call.devices.default': 'Системное по умолчанию',
  'call.devices.unnamed': '{kind} {n}',
  'call.devices.noSpeakerChoice': 'Этот браузер воспроизводит звонки через динамик, выбранный в системе.',
  'call.devices.hint': 'Названия устройств появятся, когда браузер получит доступ к микрофону или камере.',
  'call.record.call': 'Звонок · {duration}',
  'call.record.missed': 'Пропущенный звонок',
  'call.record.startedBy': 'начал(а) {name}',
  'call.record.from': 'от {name}',

  'error.wrongPassword': 'Неверный пароль.',
  'error.wrongCode': 'Неверный код. Попробуйте ещё раз.',
  'error.secondFactorRequired': 'Введите код из приложения-аутентификатора.',
  'error.twoFactorRequired': 'Администратор требует двухэтапный вход, поэтому выключить его нельзя.',
  'error.enrolmentRequired': 'Сначала настройте двухэтапный вход: этого требует администратор.',

  'field.appCode': 'Код из приложения',
  'field.recoveryCode': 'Резервный код',
  'field.recoveryCode.hint': 'Он выглядит так: abcd-efgh.',

  'login.code.title': 'Двухэтапный вход',
  'login.code.intro':
    'Откройте приложение-аутентификатор на телефоне и введите 6-значный код, который оно показывает для Outpost.',
  'login.code.introRecovery':
    'Введите один из резервных кодов, сохранённых при настройке двухэтапного входа. Каждый код действует один раз.',
  'login.code.useRecovery': 'Использовать резервный код',
  'login.code.useApp': 'Использовать код из приложения',
  'login.code.back': 'Вернуться к имени и паролю',

  'twoFactor.title': 'Двухэтапный вход',
  'twoFactor.intro':
    'После пароля Outpost спрашивает ещё и код из приложения-аутентификатора на телефоне, так что одного украденного пароля недостаточно.',
  'twoFactor.status': 'Состояние:',
  'twoFactor.on': 'Включён',
  'twoFactor.off': 'Выключен',
  'twoFactor.setUp': 'Настроить двухэтапный вход',
  'twoFactor.turnOff': 'Выключить',
  'twoFactor.turnOff.intro':
    'Введите пароль, чтобы выключить двухэтапный вход. После этого для входа будет достаточно пароля.',
  'twoFactor.turnOff.submit': 'Выключить двухэтапный вход',
  'twoFactor.turnedOn': 'Двухэтапный вход включён.',
  'twoFactor.turnedOff': 'Двухэтапный вход выключен.',
  'twoFactor.newCodes': 'Новые резервные коды',
  'twoFactor.newCodes.intro':
    'Введите пароль, чтобы получить десять новых резервных кодов. Старые перестанут действовать.',
  'twoFactor.newCodes.submit': 'Создать новые коды',
  'twoFactor.notEnabled': 'Двухэтапный вход не включён.',
  'twoFactor.alreadyEnabled': 'Двухэтапный вход уже включён.',
  'twoFactor.appCodeFormat': 'Введите 6 цифр, которые показывает приложение.',
  'twoFactor.recoveryCodeFormat': 'Резервный код состоит из 8 букв и цифр, например abcd-efgh.',

  'twoFactor.setup.intro':
    'Понадобится приложение-аутентификатор на телефоне, например Aegis, FreeOTP, Google Authenticator или Microsoft Authenticator. Чтобы начать, введите пароль.',
  'twoFactor.setup.continue': 'Продолжить',
  'twoFactor.setup.scan': 'Отсканируйте этот QR-код приложением-аутентификатором.',
  'twoFactor.setup.qrAlt': 'QR-код для приложения-аутентификатора',
  'twoFactor.setup.manual':
    'Не получается отсканировать? Введите в приложении этот ключ (тип — по времени, 6 цифр).',
  'twoFactor.setup.key': 'Ключ',
  'twoFactor.setup.openApp': 'Открыть в приложении-аутентификаторе на этом устройстве',
  'twoFactor.setup.enterCode': 'Затем введите 6-значный код, который приложение показывает для Outpost.',
  'twoFactor.setup.confirm': 'Включить',
  'twoFactor.setup.wrongCode':
    'Неверный код. Проверьте, правильное ли время на телефоне, и попробуйте ещё раз.',
  'twoFactor.setup.expired': 'Настройка заняла слишком много времени, и срок её действия истёк. Начните заново.',
  'twoFactor.setup.restart': 'Начать заново',

  'twoFactor.codes.title': 'Сохраните резервные коды',
  'twoFactor.codes.intro':
    'Если вы потеряете телефон, каждый из этих кодов один раз заменит код из приложения. Коды показываются только сейчас: сохраните их в надёжном месте, например в менеджере паролей или на распечатке.',
  'twoFactor.codes.list': 'Резервные коды',
  'twoFactor.codes.copyAll': 'Копировать все',
  'twoFactor.codes.download': 'Скачать в .txt',
  'twoFactor.codes.saved': 'Коды сохранены',
  'twoFactor.codes.fileTitle': 'Резервные коды Outpost для {username} на {host}',
  'twoFactor.codes.fileHint': 'Каждый код один раз заменяет при входе код из приложения-аутентификатора.',

  'twoFactor.required.title': 'Настройте двухэтапный вход',
  'twoFactor.required.intro':
    'Администратор требует двухэтапный вход для вашей учётной записи. Настройте его, чтобы продолжить.',

  'admin.users.twoFactor': '2 этапа',
  'admin.users.twoFactorTitle': 'Входит с кодом из приложения-аутентификатора',
  'admin.users.resetTwoFactor': 'Сбросить двухэтапный вход',
  'admin.users.resetTwoFactorLabel': 'Сбросить двухэтапный вход пользователя {username}',
  'admin.users.confirmResetTwoFactor':
    'Сбросить двухэтапный вход пользователя {username}? Его приложение-аутентификатор и резервные коды перестанут действовать: он будет входить только по паролю или, если двухэтапный вход обязателен, настроит его заново.',
  'admin.users.resetTwoFactorDone': 'Двухэтапный вход пользователя {username} сброшен.',
  'admin.twoFactor.title': 'Двухэтапный вход',
  'admin.twoFactor.require': 'Требовать двухэтапный вход',
  'admin.twoFactor.off': 'Не требовать',
  'admin.twoFactor.offHint': 'Каждый может сам включить его в своём профиле.',
  'admin.twoFactor.admins': 'От администраторов',
  'admin.twoFactor.adminsHint': 'Администраторы, которые его ещё не настроили, должны сделать это прежде всего остального.',
  'admin.twoFactor.everyone': 'От всех',
  'admin.twoFactor.everyoneHint': 'Все, кто его ещё не настроил, должны сделать это прежде всего остального.',
  'admin.twoFactor.saved': 'Настройка сохранена.',
  'admin.twoFactor.confirmSelf':
    'Вы сами ещё не настроили двухэтапный вход: это нужно будет сделать сразу после сохранения. Продолжить?',

  'badge.bot': 'бот',
  'badge.botTitle': 'Учётная запись бота: от её имени пишет программа',
  'badge.webhook': 'вебхук',
  'badge.webhookTitle': 'Отправлено другой системой через входящий вебхук',
  'badge.nameWith': '{name} ({badge})',

  'integrations.example': 'Пример с curl',
  'integrations.caNote':
    'curl проверяет этот сервер по его сертификату центра сертификации (CA), который лежит на этом сервере по адресу {path}: сохраните его как {file} там, где запускаете команду.',
  'integrations.caDownload': 'Скачать сертификат CA',
  'integrations.done': 'Готово, скрыть',
  'integrations.created': 'Создан {date}',
  'integrations.lastUsed': 'Использовался {date}',
  'integrations.neverUsed': 'Ещё не использовался',

  'webhooks.title': 'Вебхуки',
  'webhooks.intro':
    'Другие системы в вашей сети, например мониторинг или сигнализация, могут писать в {name} по секретному адресу. Их сообщения подписаны именем вебхука с пометкой «вебхук».',
  'webhooks.list': 'Вебхуки канала {name}',
  'webhooks.empty': 'Вебхуков пока нет.',
  'webhooks.name': 'Название вебхука',
  'webhooks.nameInvalid': 'Название вебхука — от 1 до 64 символов.',
  'webhooks.invalid': 'Такое название не подходит: нужно от 1 до 64 обычных символов.',
  'webhooks.create': 'Создать вебхук',
  'webhooks.creating': 'Создание…',
  'webhooks.delete': 'Удалить',
  'webhooks.deleteLabel': 'Удалить вебхук {name}',
  'webhooks.confirmDelete':
    'Удалить вебхук {name}? Его адрес сразу перестанет работать. Отправленные через него сообщения останутся.',
  'webhooks.deleted': 'Вебхук {name} удалён.',
  'webhooks.gone': 'Этого вебхука уже нет.',
  'webhooks.forbidden': 'Управлять вебхуками канала могут только его владельцы и администраторы.',
  'webhooks.secretTitle': 'Скопируйте адрес вебхука сейчас',
  'webhooks.secretIntro':
    'Он показывается только один раз. Любой, у кого он есть, может писать в {name}: храните его в секрете, а если он попадёт в чужие руки, удалите вебхук и создайте новый.',
  'webhooks.url': 'Адрес вебхука',

  'webhooks.incoming': 'Входящие',
  'outgoing.title': 'Исходящие',
  'outgoing.intro':
    'Когда сообщение в {name} начинается со слова-триггера, Outpost отправляет его системе в вашей сети и публикует её ответ здесь под именем вебхука. Видят и настраивают их только администраторы.',
  'outgoing.list': 'Исходящие вебхуки канала {name}',
  'outgoing.empty': 'Исходящих вебхуков пока нет.',
  'outgoing.triggersLabel': 'Слова-триггеры:',
  'outgoing.urlLabel': 'Вызывает:',
  'outgoing.showSecret': 'Показать секрет',
  'outgoing.hideSecret': 'Скрыть секрет',
  'outgoing.showSecretLabel': 'Показать секрет исходящего вебхука {name}',
  'outgoing.hideSecretLabel': 'Скрыть секрет исходящего вебхука {name}',
  'outgoing.secret': 'Секрет',
  'outgoing.secretHint':
    'Передаётся как «token» в каждом вызове: принимающая система сверяет его с этим секретом, чтобы убедиться, что вызов пришёл от Outpost. Храните его в тайне.',
  'outgoing.form': 'Новый исходящий вебхук',
  'outgoing.name': 'Название',
  'outgoing.nameHint': 'Ответы публикуются под этим именем.',
  'outgoing.nameInvalid': 'Название — от 1 до 64 символов.',
  'outgoing.triggers': 'Слова-триггеры',
  'outgoing.triggersHint':
    'Через пробел: от 1 до 10 слов, каждое не длиннее 32 символов. Отправляется сообщение, первое слово которого — одно из них.',
  'outgoing.triggersPlaceholder': '!status !uptime',
  'outgoing.triggersInvalid': 'Укажите от 1 до 10 слов-триггеров через пробел, каждое не длиннее 32 символов.',
  'outgoing.url': 'Адрес для вызова',
  'outgoing.urlPlaceholder': 'http://10.0.0.5:8080/outpost',
  'outgoing.urlHint':
    'Только http:// на IP-адрес в вашей сети, при необходимости с портом и путём: Outpost не разрешает имена и не вызывает https. Каждый вызов записывается в журнал аудита.',
  'outgoing.urlInvalid':
    'Нужен адрес вида http://IP-АДРЕС[:ПОРТ]/ПУТЬ, например http://10.0.0.5:8080/outpost: IP-адрес, а не имя, и http, а не https.',
  'outgoing.create': 'Создать исходящий вебхук',
  'outgoing.creating': 'Создание…',
  'outgoing.created': 'Исходящий вебхук {name} создан. Передайте его секрет принимающей системе.',
  'outgoing.delete': 'Удалить',
  'outgoing.deleteLabel': 'Удалить исходящий вебхук {name}',
  'outgoing.confirmDelete':
    'Удалить исходящий вебхук {name}? Outpost сразу перестанет вызывать его адрес. Опубликованные ответы останутся.',
  'outgoing.deleted': 'Исходящий вебхук {name} удалён.',
  'outgoing.gone': 'Этого исходящего вебхука уже нет.',
  'outgoing.channelGone': 'Этого канала уже нет.',
  'outgoing.forbidden': 'Управлять исходящими вебхуками могут только администраторы.',
  'outgoing.invalid':
    'Сервер не принял этот вебхук: проверьте название, слова-триггеры (от 1 до 10, без пробелов, не длиннее 32 символов) и адрес (http:// на IP-адрес).',

  'bots.title': 'Боты',
  'bots.intro':
    'Учётные записи ботов нужны для скриптов и других программ. Пароля у них нет: они работают с API-токенами, которые передаются в заголовке «Authorization: Bearer …». Сообщения бота помечены словом «бот».',
  'bots.username': 'Имя пользователя бота',
  'bots.displayName': 'Отображаемое имя (необязательно)',
  'bots.usernameInvalid':
    'Имя пользователя — от 1 до 32 символов: латинские буквы, цифры, точка, дефис или подчёркивание; начинается с буквы или цифры.',
  'bots.create': 'Создать бота',
  'bots.creating': 'Создание…',
  'bots.createdDone': 'Бот {username} создан. Выдайте ему токен, чтобы им могла пользоваться программа.',
  'bots.conflict': 'Это имя пользователя уже занято.',
  'bots.invalid':
    'Проверьте имена: имя пользователя — от 1 до 32 латинских букв, цифр, точек, дефисов или подчёркиваний, начиная с буквы или цифры; отображаемое имя — не длиннее 64 обычных символов.',
  'bots.empty': 'Ботов пока нет.',
  'bots.list': 'Учётные записи ботов',
  'bots.tokens': 'API-токены бота {username}',
  'bots.noTokens': 'Токенов нет: пока ни одна программа не может пользоваться этим ботом.',
  'bots.newToken': 'Новый токен',
  'bots.newTokenLabel': 'Новый токен для {username}',
  'bots.tokenName': 'Название токена',
  'bots.tokenNameHint': 'Где он используется, например «скрипт резервного копирования на nas1».',
  'bots.tokenNameInvalid': 'Название токена — от 1 до 64 символов.',
  'bots.scopes': 'Что разрешено токену',
  'bots.scope.read': 'Чтение',
  'bots.scope.readHint': 'Читать каналы и сообщения: GET-запросы и живое подключение по WebSocket.',
  'bots.scope.write': 'Запись',
  'bots.scope.writeHint': 'Также отправлять сообщения, ставить реакции, править свои сообщения и вступать в каналы.',
  'bots.scope.admin': 'Администрирование',
  'bots.scope.adminHint':
    'Также администрировать сервер, но только если бот сам администратор; назначить его можно так же, как любого пользователя (outpost user promote {username}).',
  'bots.scope.adminNotYet': 'Этот бот пока не администратор, поэтому сейчас это разрешение ничего ему не добавляет.',
  'bots.scopesNone': 'Выберите хотя бы одно.',
  'bots.createToken': 'Создать токен',
  'bots.creatingToken': 'Создание…',
  'bots.tokenInvalid': 'Введите название токена из 1–64 обычных символов и выберите хотя бы одно разрешение.',
  'bots.gone': 'Этого бота уже нет.',
  'bots.tokenGone': 'Этого токена уже нет.',
  'bots.secretTitle': 'Скопируйте токен сейчас',
  'bots.secretIntro':
    'Он показывается только один раз. Любой, у кого он есть, действует от имени {username} в пределах его разрешений: храните его в секрете, а если он попадёт в чужие руки, отзовите его и создайте новый.',
  'bots.token': 'API-токен',
  'bots.revoke': 'Отозвать',
  'bots.revokeLabel': 'Отозвать токен {name} бота {username}',
  'bots.confirmRevoke': 'Отозвать токен {name} бота {username}? Программы, которые им пользуются, сразу получат отказ.',
  'bots.revoked': 'Токен {name} отозван.',
  'bots.confirmDisable': 'Отключить бота {username}? Его токены перестанут работать, пока вы снова его не включите.',
  'bots.disabledDone': 'Бот {username} отключён: его токены не принимаются.',
  'bots.enabledDone': 'Бот {username} включён: его токены снова работают.',

  'error.managedByDirectory': 'Это берётся из каталога организации, и здесь это изменить нельзя.',
  'error.badPhoto': 'Outpost не может прочитать этот файл как изображение. Используйте JPEG, PNG, WebP или GIF.',
  'error.payloadTooLarge': 'Это слишком большой объём для отправки.',

  'field.jobTitle': 'Должность',
  'field.department': 'Отдел',
  'field.phone': 'Телефон',
  'field.phone.hint': 'Цифры, пробелы и + - ( ) . # * /',
  'field.about': 'О себе',
  'field.about.hint': 'Несколько строк о вас и вашей работе, до 500 символов.',
  'profile.saved': 'Профиль сохранён.',
  'profile.managed': 'Из каталога организации',
  'profile.jobTitle.tooLong': 'Должность — не больше 100 символов.',
  'profile.department.tooLong': 'Название отдела — не больше 100 символов.',
  'profile.phone.invalid': 'Номер телефона — не больше 40 символов: цифры, пробелы и + - ( ) . # * /.',
  'profile.about.tooLong': 'Напишите здесь не больше 500 символов.',
  'profile.photo.title': 'Фотография',
  'profile.photo.intro': 'Показывается рядом с вашим именем. Outpost вырезает квадрат из середины изображения.',
  'profile.photo.none': 'Фотографии пока нет: другие видят ваши инициалы.',
  'profile.photo.upload': 'Загрузить фото',
  'profile.photo.uploading': 'Загрузка…',
  'profile.photo.remove': 'Удалить фото',
  'profile.photo.removing': 'Удаление…',
  'profile.photo.confirmRemove': 'Удалить вашу фотографию? Вместо неё другие увидят ваши инициалы.',
  'profile.photo.saved': 'Фотография обновлена.',
  'profile.photo.removed': 'Фотография удалена.',
  'profile.photo.notImage': 'Выберите файл изображения (JPEG, PNG, WebP или GIF).',
  'profile.photo.tooLarge': 'Это изображение больше 10 МБ. Выберите файл поменьше.',

  'card.message': 'Написать',
  'card.deactivated': 'Эта учётная запись отключена.',
  'card.open': 'Показать профиль: {name}',

  'admin.users.directory': 'каталог',
  'admin.users.directoryTitle': 'Учётная запись из каталога организации: входит с паролем каталога',

  'error.accountDisabled': 'Эта учётная запись отключена. Попросите администратора снова её включить.',

  'shell.people': 'Люди',
  'sidebar.mutedLabel': 'заглушено',
  'channel.muted': 'Уведомления заглушены',

  'people.title': 'Люди',
  'people.search': 'Поиск людей',
  'people.searchHint': 'Имя, имя пользователя, должность или отдел',
  'people.count': {
    one: '{n} человек',
    few: '{n} человека',
    many: '{n} человек',
    other: '{n} человека',
  },
  'people.none': 'По запросу «{query}» никого не найдено.',
  'people.empty': 'Здесь пока никого нет.',
  'people.you': 'вы',
  'people.deactivated': 'отключён',

  'status.title': 'Статус',
  'status.set': 'Указать статус',
  'status.edit': 'Изменить статус',
  'status.yours': 'Ваш статус: {status}',
  'status.label': 'Статус: {text}',
  'status.emoji': 'Эмодзи',
  'status.chooseEmoji': 'Выбрать эмодзи',
  'status.noEmoji': 'Без эмодзи',
  'status.text': 'Ваш статус',
  'status.textHint': 'До 100 символов.',
  'status.clearAfter': 'Когда убрать',
  'status.clear.30m': 'Через 30 минут',
  'status.clear.1h': 'Через час',
  'status.clear.4h': 'Через 4 часа',
  'status.clear.today': 'В конце дня',
  'status.clear.week': 'В конце недели',
  'status.clear.never': 'Не убирать',
  'status.presets': 'Готовые варианты',
  'status.preset.meeting': 'На встрече',
  'status.preset.onTheWay': 'В пути',
  'status.preset.sick': 'На больничном',
  'status.preset.leave': 'В отпуске',
  'status.clearNow': 'Убрать статус',
  'status.saved': 'Статус сохранён.',
  'status.cleared': 'Статус убран.',
  'status.none': 'Статус не указан.',
  'status.tooLong': 'Статус — не больше 100 символов.',
  'status.badText': 'Статус — одна строка текста.',
  'status.untilTime': 'до {time}',
  'status.untilDate': 'до {date}',
  'status.cardTitle': 'Статус',
  'status.cardIntro': 'Сообщите другим, где вы или чем заняты. Статус виден рядом с вашим именем.',

  'message.deactivated': 'отключён',

  'prefs.title': 'Уведомления',
  'prefs.intro': 'Когда Outpost вас уведомляет. Эти настройки действуют на всех ваших устройствах.',
  'prefs.dnd': 'Не беспокоить',
  'prefs.dndOff': 'Выключено: уведомления приходят.',
  'prefs.dndOn': 'Включено {until}: уведомлений нет.',
  'prefs.dndQuiet': 'Сейчас тихие часы: уведомлений нет.',
  'prefs.dndFor': 'Приостановить уведомления',
  'prefs.dnd30m': 'На 30 минут',
  'prefs.dnd1h': 'На час',
  'prefs.dnd2h': 'На 2 часа',
  'prefs.dndTomorrow': 'До завтра, 08:00',
  'prefs.dndEnd': 'Выключить',
  'prefs.quiet': 'Тихие часы каждый день',
  'prefs.quietEnable': 'Каждый день приостанавливать уведомления',
  'prefs.quietFrom': 'С',
  'prefs.quietTo': 'До',
  'prefs.quietHint': 'По вашему часовому поясу. Можно через полночь, например с 19:00 до 08:00.',
  'prefs.quietInvalid': 'Выберите два разных времени.',
  'prefs.timeZone': 'Часовой пояс',
  'prefs.timeZoneBrowser': 'Как на этом устройстве ({zone})',
  'prefs.timeZoneHint': 'Для тихих часов и для статусов, которые убираются в конце дня или недели.',
  'prefs.keywords': 'Ключевые слова',
  'prefs.keywordsHint': 'Сообщения с этими словами уведомляют вас, как упоминания. Разделяйте их запятой или Enter.',
  'prefs.keywordsList': 'Ваши ключевые слова',
  'prefs.keywordRemove': 'Убрать {word}',
  'prefs.keywordsTooMany': 'Не больше 20 ключевых слов.',
  'prefs.keywordTooLong': 'Ключевое слово — не больше 40 символов.',
  'prefs.receipts': 'Отправлять отметки о прочтении',
  'prefs.receiptsHint': 'В личных разговорах другие видят, что вы прочитали их сообщения.',
  'prefs.language': 'Язык',
  'prefs.languageBrowser': 'Как в браузере',
  'prefs.desktopDenied': 'Этот браузер блокирует уведомления Outpost. Разрешите их в настройках сайта.',
  'prefs.saved': 'Сохранено.',

  'lang.en': 'English',
  'lang.ru': 'Русский',

  'notify.title': 'Уведомления',
  'notify.level': 'Уведомлять меня',
  'notify.all': 'Обо всех сообщениях',
  'notify.mentions': 'Только об упоминаниях',
  'notify.none': 'Ни о чём',
  'notify.muteFor': 'Заглушить',
  'notify.mute1h': 'На час',
  'notify.mute8h': 'На 8 часов',
  'notify.mute24h': 'На сутки',
  'notify.muteForever': 'Пока не включу',
  'notify.mutedUntil': 'Заглушено {until}.',
  'notify.mutedForever': 'Заглушено, пока вы не включите снова.',
  'notify.unmute': 'Включить снова',
  'notify.mutedHint': 'Заглушённый разговор в списке бледнее и уведомляет только об упоминаниях.',

  'details.massMentions': 'Кто может уведомлять всех (@channel, @here)',
  'details.massEveryone': 'Все участники',
  'details.massOwners': 'Только владельцы',

  'receipts.seen': 'Просмотрено',
  'receipts.seenBy': {
    one: 'Просмотрел {n}',
    few: 'Просмотрели {n}',
    many: 'Просмотрели {n}',
    other: 'Просмотрели {n}',
  },
  'receipts.who': '{name} — {time}',
};

export const catalogs = { en, ru } satisfies Record<string, Catalog>;
export type Locale = keyof typeof catalogs;
export const DEFAULT_LOCALE: Locale = 'en';

function isLocale(value: string): value is Locale {
  return Object.prototype.hasOwnProperty.call(catalogs, value);
}

/**
 * Picks the first supported locale from a list of BCP 47 tags, in order of
 * preference (as in `navigator.languages`). `ru-RU` matches `ru`. Falls back
 * to English.
 */
export function pickLocale(languages: readonly string[] | undefined | null): Locale {
  for (const tag of languages ?? []) {
    if (typeof tag !== 'string') continue;
    const primary = tag.trim().toLowerCase().split(/[-_]/)[0] ?? '';
    if (isLocale(primary)) return primary;
  }
  return DEFAULT_LOCALE;
}

/** Replaces `{name}` placeholders; unknown placeholders are left as they are. */
export function interpolate(template: string, params?: Params): string {
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole,
  );
}

const pluralRules = new Map<string, Intl.PluralRules>();

function selectPlural(locale: string, forms: PluralForms, n: number): string {
  let rules = pluralRules.get(locale);
  if (!rules) {
    rules = new Intl.PluralRules(locale);
    pluralRules.set(locale, rules);
  }
  return forms[rules.select(n)] ?? forms.other;
}

/**
 * Looks `key` up in the catalog of `locale`, falling back to English and
 * finally to the key itself, so a missing translation never breaks the UI.
 */
export function translate(
  tables: Partial<Record<string, Partial<Record<string, Message>>>>,
  locale: string,
  key: string,
  params?: Params,
): string {
  let lang = locale;
  let message = tables[locale]?.[key];
  if (message === undefined) {
    lang = DEFAULT_LOCALE;
    message = tables[DEFAULT_LOCALE]?.[key];
  }
  if (message === undefined) return key;
  const text =
    typeof message === 'string' ? message : selectPlural(lang, message, Number(params?.n ?? 0));
  return interpolate(text, params);
}

/** The browser's preferred supported language. */
export function browserLocale(): Locale {
  if (typeof navigator === 'undefined') return DEFAULT_LOCALE;
  const langs = navigator.languages?.length ? navigator.languages : [navigator.language];
  return pickLocale(langs);
}

/** Where this device remembers the language chosen in the preferences (for the sign-in page too). */
const LANGUAGE_KEY = 'outpost.language';

function storedLanguage(): Locale | null {
  try {
    const value = typeof localStorage !== 'undefined' ? localStorage.getItem(LANGUAGE_KEY) : null;
    return value && isLocale(value) ? value : null;
  } catch {
    return null;
  }
}

function detectLocale(): Locale {
  return storedLanguage() ?? browserLocale();
}

let currentLocale: Locale = detectLocale();
const localeListeners = new Set<(locale: Locale) => void>();

export function getLocale(): Locale {
  return currentLocale;
}

/** Changes the UI language and tells the listeners (the app re-renders). Also sets `<html lang>`. */
export function setLocale(locale: Locale): void {
  const changed = locale !== currentLocale;
  currentLocale = locale;
  if (typeof document !== 'undefined') document.documentElement.lang = locale;
  if (changed) for (const l of [...localeListeners]) l(locale);
}

/** Calls `listener` whenever the UI language changes; returns the unsubscribe function. */
export function onLocaleChange(listener: (locale: Locale) => void): () => void {
  localeListeners.add(listener);
  return () => {
    localeListeners.delete(listener);
  };
}

/**
 * Applies the language from the preferences ("en", "ru", or "" for the browser's) at once, and
 * remembers it on this device.
 */
export function applyLanguage(language: string): void {
  const chosen = isLocale(language) ? language : null;
  try {
    if (chosen) localStorage.setItem(LANGUAGE_KEY, chosen);
    else localStorage.removeItem(LANGUAGE_KEY);
  } catch {
    // Storage unavailable: the choice lasts for this page.
  }
  setLocale(chosen ?? browserLocale());
}

/** Translates a key in the current locale. */
export function t(key: MessageKey, params?: Params): string {
  return translate(catalogs, currentLocale, key, params);
}

/** Formats an RFC 3339 timestamp for display in the current locale. */
export function formatDateTime(value: string, locale: string = currentLocale): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}
