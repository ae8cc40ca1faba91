// Electron shell: placeholder until the desktop-app issue lands.
export {};
