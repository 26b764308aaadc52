// Placeholder until the real entry point lands.
import * as ff from '@google-cloud/functions-framework';

ff.http('restockSubscriptions', (_req, res) => {
  res.status(501).json({ error: 'not implemented yet' });
});
