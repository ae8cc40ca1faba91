/**
 * The API over Electron IPC: one `invoke` channel answered by the router, and
 * one event channel pushing the router's events to every window. Only the
 * app's own pages may call it.
 */
import { BrowserWindow, ipcMain, type IpcMainInvokeEvent, type WebFrameMain } from 'electron';
import type { ApiResult } from '../../shared/api.js';
import type { Router } from '../api/router.js';

export const IPC_INVOKE = 'dbferry:invoke';
export const IPC_EVENT = 'dbferry:event';

export function isAppFrame(frame: WebFrameMain | null, devServerUrl?: string): boolean {
  if (!frame) return false;
  const url = frame.url;
  return url.startsWith('file://') || (devServerUrl !== undefined && url.startsWith(devServerUrl));
}

export function registerIpc(router: Router, devServerUrl?: string): () => void {
  ipcMain.handle(IPC_INVOKE, (event: IpcMainInvokeEvent, command: unknown, input: unknown): Promise<ApiResult> | ApiResult => {
    if (!isAppFrame(event.senderFrame, devServerUrl)) {
      return { ok: false, error: { code: 'failed', message: 'refused: not sent by the dbferry window' } };
    }
    return router.handle(String(command), input);
  });
  const unsubscribe = router.subscribe((name, payload) => {
    for (const win of BrowserWindow.getAllWindows()) {
      if (!win.isDestroyed()) win.webContents.send(IPC_EVENT, name, payload);
    }
  });
  return () => {
    ipcMain.removeHandler(IPC_INVOKE);
    unsubscribe();
  };
}
