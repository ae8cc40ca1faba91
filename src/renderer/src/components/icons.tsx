/** A few line icons, inline so the CSP needs no image sources. */
const base = { width: 18, height: 18, viewBox: '0 0 24 24', fill: 'none', stroke: 'currentColor', strokeWidth: 1.8, strokeLinecap: 'round', strokeLinejoin: 'round' } as const;

export const IconDatabase = () => (
  <svg {...base} aria-hidden>
    <ellipse cx="12" cy="5" rx="8" ry="3" />
    <path d="M4 5v14c0 1.7 3.6 3 8 3s8-1.3 8-3V5" />
    <path d="M4 12c0 1.7 3.6 3 8 3s8-1.3 8-3" />
  </svg>
);
export const IconJob = () => (
  <svg {...base} aria-hidden>
    <path d="M4 7h11M4 12h16M4 17h9" />
    <path d="m17 4 3 3-3 3" />
  </svg>
);
export const IconRuns = () => (
  <svg {...base} aria-hidden>
    <path d="M3 12h4l3 8 4-16 3 8h4" />
  </svg>
);
export const IconDeadLetter = () => (
  <svg {...base} aria-hidden>
    <rect x="3" y="5" width="18" height="14" rx="2" />
    <path d="m3 7 9 6 9-6" />
    <path d="M15 16h6" />
  </svg>
);
export const IconBackup = () => (
  <svg {...base} aria-hidden>
    <path d="M3 12a9 9 0 1 0 3-6.7" />
    <path d="M3 4v5h5" />
    <path d="M12 8v4l3 2" />
  </svg>
);
export const IconSchedule = () => (
  <svg {...base} aria-hidden>
    <rect x="3" y="5" width="18" height="16" rx="2" />
    <path d="M3 10h18M8 3v4M16 3v4" />
    <path d="M12 13v3l2 1.5" />
  </svg>
);
export const IconSun = () => (
  <svg {...base} aria-hidden>
    <circle cx="12" cy="12" r="4" />
    <path d="M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4" />
  </svg>
);
export const IconMoon = () => (
  <svg {...base} aria-hidden>
    <path d="M21 12.8A9 9 0 1 1 11.2 3a7 7 0 0 0 9.8 9.8Z" />
  </svg>
);
export const IconArrow = () => (
  <svg {...base} width={14} height={14} aria-hidden>
    <path d="M5 12h14M13 6l6 6-6 6" />
  </svg>
);
export const Logo = () => (
  <svg width="26" height="26" viewBox="0 0 32 32" aria-hidden>
    <rect width="32" height="32" rx="8" fill="var(--accent)" />
    <path d="M7 19c3 3 15 3 18 0l-2 5H9Z" fill="#fff" />
    <path d="M16 6v11M16 6l6 9h-6" stroke="#fff" strokeWidth="1.8" fill="none" strokeLinejoin="round" />
  </svg>
);
