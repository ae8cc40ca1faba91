/** Browser mode: turn "run finished" notifications on (the browser asks for permission) or off. */
import { useState } from 'react';
import { useApp } from '../../app/store';
import { notificationsOn, notificationsSupported, turnNotificationsOff, turnNotificationsOn } from './notifications';

export function NotificationsToggle() {
  const mode = useApp((s) => s.info?.mode);
  const [on, setOn] = useState(notificationsOn);
  const [blocked, setBlocked] = useState(() => notificationsSupported() && Notification.permission === 'denied');
  if (mode !== 'browser' || !notificationsSupported()) return null;
  if (blocked) return <p className="mode-note">Notifications are blocked in this browser&apos;s site settings</p>;
  const toggle = async () => {
    if (on) {
      turnNotificationsOff();
      setOn(false);
      return;
    }
    const permission = await turnNotificationsOn();
    setOn(permission === 'granted');
    setBlocked(permission === 'denied');
  };
  return (
    <label className="check notify-toggle" title="A desktop notification when a run finishes while this tab is not in front">
      <input type="checkbox" checked={on} onChange={() => void toggle()} />
      Notify when a run finishes
    </label>
  );
}
