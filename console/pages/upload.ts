// A file posted to the console (multipart form) that the console sends on to the API as its body.

/** JSON when the file says so (its type or a .json name), else CSV. */
export function fileFormat(file: File): 'csv' | 'json' {
  return file.type === 'application/json' || /\.json$/i.test(file.name) ? 'json' : 'csv';
}

/** The API body for a posted file: its text, with the content type its format has. */
export async function fileBody(file: File): Promise<{ text: string; type: string }> {
  return { text: await file.text(), type: fileFormat(file) === 'json' ? 'application/json' : 'text/csv' };
}
