import { resolve } from 'node:path';
import { defaultStateDir } from '../store/location.js';
import { Store, StoreError } from '../store/store.js';

export function stateDir(flag?: string): string {
  return flag ? resolve(flag) : defaultStateDir();
}

/** Open the store or explain why not (exit 1). */
export function openStore(flag?: string): Store | undefined {
  try {
    return Store.open(stateDir(flag));
  } catch (err) {
    if (err instanceof StoreError) {
      process.stderr.write(`dbferry: ${err.message}\n`);
      return undefined;
    }
    throw err;
  }
}
