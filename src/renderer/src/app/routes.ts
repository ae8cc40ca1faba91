/** Screens, addressed by the URL hash so Back/Forward and reload work. */
export type Route =
  | { screen: 'connections' }
  | { screen: 'jobs' }
  | { screen: 'builder' }
  | { screen: 'plan' }
  | { screen: 'runs' }
  | { screen: 'run'; runId: string }
  | { screen: 'dead-letters'; runId?: string }
  | { screen: 'backups' }
  | { screen: 'schedules' };

export function toHash(route: Route): string {
  switch (route.screen) {
    case 'run':
      return `#/runs/${encodeURIComponent(route.runId)}`;
    case 'dead-letters':
      return route.runId ? `#/dead-letters/${encodeURIComponent(route.runId)}` : '#/dead-letters';
    default:
      return `#/${route.screen}`;
  }
}

export function fromHash(hash: string): Route {
  const [screen, arg] = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  switch (screen) {
    case 'jobs':
    case 'builder':
    case 'plan':
    case 'backups':
    case 'schedules':
    case 'connections':
      return { screen };
    case 'runs':
      return arg ? { screen: 'run', runId: arg } : { screen: 'runs' };
    case 'dead-letters':
      return { screen: 'dead-letters', runId: arg || undefined };
    default:
      return { screen: 'connections' };
  }
}
