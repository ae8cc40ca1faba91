/** Save text as a file through the browser's download (no Node in the renderer). */
export function download(filename: string, text: string, type = 'application/json'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function fileName(name: string, ext = 'json'): string {
  return `${name.trim().replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'job'}.${ext}`;
}
