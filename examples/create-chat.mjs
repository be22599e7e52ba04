/** POST /chat/ for user 123; the examples' chat when none is given. */
export async function createChat(baseUrl) {
  const response = await fetch(`${baseUrl}/chat/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId: '123' }),
  });
  if (response.status !== 201) throw new Error(`POST /chat/: ${response.status} ${await response.text()}`);
  return (await response.json()).id;
}
