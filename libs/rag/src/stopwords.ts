// Stopword lists for keyword ranking and salient-word extraction. Entries are
// lower-case and NFC, the same form that `tokenize` produces.

/** English function words (the NLTK list, plus a few modal verbs it lacks). */
export const STOPWORDS_EN: ReadonlySet<string> = new Set(
  `a about above after again against ain all also am an and any are aren as at be because been before
  being below between both but by can could couldn d did didn do does doesn doing don down during each
  few for from further had hadn has hasn have haven having he her here hers herself him himself his how
  i if in into is isn it its itself just ll m ma may me might mightn more most must mustn my myself
  needn no nor not now o of off on once only or other our ours ourselves out over own re s same shall
  shan she should shouldn so some such t than that the their theirs them themselves then there these
  they this those through to too under until up us ve very was wasn we were weren what when where which
  while who whom why will with won would wouldn y you your yours yourself yourselves`
    .split(/\s+/)
    .filter(Boolean),
);

/**
 * Hindi function words: postpositions, pronouns, auxiliaries, conjunctions and
 * question words (after the list used by Lucene's Hindi analyzer, curated:
 * content words such as घर were dropped, question words added).
 */
export const STOPWORDS_HI: ReadonlySet<string> = new Set(
  `अंदर अत अदि अप अपना अपनी अपने अभि अभी आदि आप आपका आपकी आपके आपको इत्यादि इन इनका इनकी इनके इन्हीं
  इन्हें इन्हों इन्होंने इस इसका इसकी इसके इसको इसने इसमें इसी इसे उन उनका उनकी उनके उनको उन्हीं उन्हें उन्हों
  उन्होंने उस उसका उसकी उसके उसको उसने उसमें उसी उसे एक एवं एस एसे ऐसे ओर और कई कर करके करता करती करते
  करना करने करें कहते कहा का काफ़ी काफी कि किन्हें किन्हों किया किस किसका किसकी किसके किसने किसी किसे
  की कुछ कुल के को कोई कौन कौनसा कौनसी कौनसे कोन कोनसा क्या क्यों कब कहाँ कहां कैसे कैसा कैसी कितना
  कितनी कितने गई गए गया गयी गये जब जहाँ जहां जा जाता जाती जाते जाना जाने जितना जिधर जिन जिन्हें जिन्हों
  जिस जिसका जिसकी जिसके जिसमें जिसे जैसा जैसे जो तक तब तरह तिन तिन्हें तिन्हों तिस तिसे तुम तुम्हारा
  तुम्हें तो था थी थीं थे दबारा दवारा दिया दुसरा दुसरे दूसरे द्वारा न नहीं ना नीचे ने पर पहले पुरा पूरा पे
  फिर बनी बही बहुत बाद बाला बिलकुल भी भीतर मगर मानो मुझे मे में मेरा मेरी मेरे मैं यदि यह यहाँ यहां यही
  या ये रखें रहा रही रहे लिए लिये लिया लेकिन व वगैरह वर्ग वह वहाँ वहां वहीं वाला वाली वाले वुह वे वो
  संग सकता सकती सकते सबसे सभी साथ सारा से सो ही हुआ हुई हुए हे हैं है हो होकर होगा होगी होंगे होता
  होती होते होना होने हम हमें हमारा हमारी हमारे`
    .split(/\s+/)
    .filter(Boolean)
    .map((word) => word.normalize('NFC')),
);
