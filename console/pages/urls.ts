// Addresses of console pages several pages link to (kept apart so pages need not import each other).

export const groupUrl = (id: string) => `/console/directory/groups/${encodeURIComponent(id)}`;
export const userUrl = (id: string) => `/console/directory/users/${encodeURIComponent(id)}`;
export const SOURCES = '/console/sources';
export const sourceUrl = (id: string) => `${SOURCES}/${encodeURIComponent(id)}`;
